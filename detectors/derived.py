"""Persist the metric models as lake tables (`steps`, `sessions`), incrementally.

A `metrics` manifest entry records a watermark: the last ingest entry whose events it covers. The
next run rebuilds only the sessions those newer events can change (`affected_sessions`), merges them
into the stored tables inside DuckDB (so memory stays bounded), writes the merged tables as new files
and commits an entry that adds them and removes the old ones. The result equals a full rebuild.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import orjson

from agentwatch.detectors.catalog import connect
from agentwatch.detectors.metrics import OUTPUT_TABLES, affected_sessions, build_metrics
from agentwatch.ingest.manifest import append_entry, live_files, read_entries
from agentwatch.ingest.stage import TMP_DIR, Output, lake_lock, publish_output, sql_list
from agentwatch.inventory import Agent

# lake table -> sort order of its rows (one session's rows stay together)
TABLE_ORDER = {"steps": "agent_id, session_id, seq, event_id", "sessions": "agent_id, session_id"}


@dataclass(frozen=True)
class MetricsRun:
    """What one `agentwatch metrics` run did."""

    mode: str  # full | incremental | up_to_date
    sessions_rebuilt: int
    count_steps: int
    count_sessions: int
    entry: dict[str, Any] | None


def run_metrics(
    lake: Path, inventory: Mapping[str, Agent], *, baseline_days: int = 7, memory_limit: str = "1GB"
) -> MetricsRun:
    """Bring `steps` and `sessions` up to date with every committed ingest batch."""
    with lake_lock(lake):
        entries = read_entries(lake)
        settings = settings_hash(inventory, baseline_days)
        last = next((e for e in reversed(entries) if e.get("kind") == "metrics"), None)
        if last and last.get("settings_hash") != settings:
            last = None  # the inventory or the baseline changed: every session's metrics may change
        ingests = [e for e in entries if e.get("kind") == "ingest"]
        watermark = last["watermark"] if last else 0
        new = [e for e in ingests if e["seq"] > watermark]
        if last and not new:
            return MetricsRun("up_to_date", 0, 0, 0, None)
        con = connect(lake, hardened=False)
        con.execute(f"set memory_limit = '{memory_limit}'")
        con.execute(f"set temp_directory = '{lake / TMP_DIR / 'metrics-spill'}'")
        if last is None:
            result = build_metrics(con, inventory, baseline_days=baseline_days, publish=False)
            mode, rebuilt = "full", result.count_sessions
        else:
            rebuilt = _rebuild_affected(con, inventory, new, baseline_days, lake)
            mode = "incremental"
        outputs = [_write_table(con, lake, name, mode, len(entries) + 1) for name in TABLE_ORDER]
        stale = [p for p, o in live_files(entries).items() if o["table"] in TABLE_ORDER]
        entry = append_entry(lake, {
            "kind": "metrics", "mode": mode, "watermark": ingests[-1]["seq"] if ingests else 0,
            "settings_hash": settings,
            "sessions_rebuilt": rebuilt, "outputs": [o.as_dict() for o in outputs], "removes": stale,
        })
        for path in stale:
            (lake / path).unlink(missing_ok=True)
        counts = {o.table: o.rows for o in outputs}
        return MetricsRun(mode, rebuilt, counts["steps"], counts["sessions"], entry)


def settings_hash(inventory: Mapping[str, Agent], baseline_days: int) -> str:
    """What the stored metrics were computed with, beside the events: a change forces a full rebuild."""
    agents = {agent_id: {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in vars(a).items()}
              for agent_id, a in sorted(inventory.items())}
    body = orjson.dumps({"baseline_days": baseline_days, "agents": agents}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()


def _rebuild_affected(
    con: duckdb.DuckDBPyConnection, inventory: Mapping[str, Agent], new: list[dict], baseline_days: int,
    lake: Path,
) -> int:
    files = [str(lake / o["path"]) for e in new for o in e.get("outputs", ()) if o["table"] == "events"]
    if not files:
        con.execute("create table metrics_steps as select * from steps limit 0")
        con.execute("create table metrics_sessions as select * from sessions limit 0")
        con.execute("create table affected as select null::varchar as agent_id, null::varchar as session_id limit 0")
        return 0
    con.execute(f"create view new_events as select * from read_parquet({sql_list(files)}, hive_partitioning = true)")
    affected = affected_sessions(con, baseline_days=baseline_days)
    con.register("affected_arrow", affected)
    con.execute("create table affected as select * from affected_arrow")
    build_metrics(con, inventory, baseline_days=baseline_days, sessions_filter="affected", publish=False)
    return len(affected)


def _write_table(con: duckdb.DuckDBPyConnection, lake: Path, name: str, mode: str, seq: int) -> Output:
    """Write the table's full new content (stored rows of unaffected sessions + rebuilt ones)."""
    rebuilt = OUTPUT_TABLES[name]
    if mode == "full":
        source = f"select * from {rebuilt}"
    else:
        source = (f"select * from {name} anti join affected using (agent_id, session_id) "
                  f"union all by name select * from {rebuilt}")
    tmp = lake / TMP_DIR / f"{name}.parquet"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"copy ({source} order by {TABLE_ORDER[name]}) to '{tmp}' (format parquet, compression zstd)")
    return publish_output(lake, tmp, name, f"{name}/part-{seq:08d}.parquet")
