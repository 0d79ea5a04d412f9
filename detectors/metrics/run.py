"""Persist the metric models as lake tables (`steps`, `sessions`), incrementally.

A `metrics` manifest entry records a watermark: the last ingest entry whose events it covers. The
next run rebuilds only the sessions those newer events can change (`affected_sessions`), rewrites the
stored files that hold one of them without it, adds the rebuilt sessions as a new file, and commits
it all in one entry (DuckDB streams every write, so memory stays bounded). The result equals a full
rebuild; a night of new sessions writes in proportion to them, not to the lake.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import orjson

from agentwatch.detectors.metrics.models import OUTPUT_TABLES, affected_sessions, build_metrics
from agentwatch.inventory import Agent
from agentwatch.lake import EVENTS, Lake, LakeWriter, agents_not_in, live_files, read_parquet, sql_list

# lake table -> sort order of its rows (one session's rows stay together)
TABLE_ORDER = {"steps": "agent_id, session_id, seq, event_id", "sessions": "agent_id, session_id"}
# an incremental run adds a file per table; at this many the next run rewrites the table as one
MAX_TABLE_FILES = 32


@dataclass(frozen=True)
class MetricsRun:
    """What one `agentwatch metrics` run did."""

    mode: str  # full | incremental | up_to_date
    sessions_rebuilt: int
    count_steps: int
    count_sessions: int
    entry: dict[str, Any] | None
    unknown_agents: tuple[str, ...] = ()  # in events, not in the inventory: no declared scope to check


def run_metrics(
    lake: Lake | Path, inventory: Mapping[str, Agent], *, baseline_days: int = 7, memory_limit: str = "1GB"
) -> MetricsRun:
    """Bring `steps` and `sessions` up to date with every committed ingest batch."""
    lake = (lake if isinstance(lake, Lake) else Lake(lake)).require()
    with lake.writer() as writer:
        state = metrics_state(writer.entries, inventory, baseline_days)
        con = writer.connection(memory_limit=memory_limit)
        unknown = agents_not_in(con, inventory) if inventory else ()
        if state.mode == "up_to_date":
            return MetricsRun("up_to_date", 0, 0, 0, None, unknown)
        if state.mode == "full":
            rebuilt = build_metrics(con, inventory, baseline_days=baseline_days, publish=False).count_sessions
        else:
            rebuilt = _rebuild_affected(con, inventory, state.new, baseline_days, lake)
        return commit_metrics(con, writer, state, rebuilt, unknown)


@dataclass(frozen=True)
class MetricsState:
    """Where the stored metrics stand against the manifest: what a run has to rebuild."""

    settings_hash: str
    mode: str  # full | incremental | up_to_date
    new: tuple[dict[str, Any], ...]  # ingest entries past the watermark
    watermark: int  # the last ingest entry: what the next metrics entry covers


def metrics_state(entries: list[dict[str, Any]], inventory: Mapping[str, Agent], baseline_days: int) -> MetricsState:
    """Full (never built, or built with other settings), incremental (new ingest batches) or up to date."""
    settings = settings_hash(inventory, baseline_days)
    last = next((e for e in reversed(entries) if e.get("kind") == "metrics"), None)
    if last and last.get("settings_hash") != settings:
        last = None  # the inventory or the baseline changed: every session's metrics may change
    ingests = [e for e in entries if e.get("kind") == "ingest"]
    new = tuple(e for e in ingests if e["seq"] > (last["watermark"] if last else 0))
    mode = "full" if last is None else ("incremental" if new else "up_to_date")
    return MetricsState(settings, mode, new, ingests[-1]["seq"] if ingests else 0)


def commit_metrics(
    con: duckdb.DuckDBPyConnection, writer: LakeWriter, state: MetricsState, rebuilt: int, unknown: tuple[str, ...],
) -> MetricsRun:
    """Replace `steps` and `sessions` with `metrics_steps` / `metrics_sessions` merged into the stored
    rows (incremental: every session in `affected` is replaced), in one manifest entry."""
    counts = {name: _write_table(con, writer, name, state.mode) for name in TABLE_ORDER}
    entry = writer.commit("metrics", extra={
        "mode": state.mode, "watermark": state.watermark, "settings_hash": state.settings_hash,
        "sessions_rebuilt": rebuilt,
    })
    return MetricsRun(state.mode, rebuilt, counts["steps"], counts["sessions"], entry, unknown)


def new_event_files(lake: Lake, new: tuple[dict[str, Any], ...]) -> list[str]:
    """What DuckDB opens to read the events of the given ingest entries."""
    return [lake.store.uri(o["path"]) for e in new for o in e.get("outputs", ()) if o["table"] == EVENTS]


def settings_hash(inventory: Mapping[str, Agent], baseline_days: int) -> str:
    """What the stored metrics were computed with, beside the events: a change forces a full rebuild."""
    agents = {agent_id: {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in vars(a).items()}
              for agent_id, a in sorted(inventory.items())}
    body = orjson.dumps({"baseline_days": baseline_days, "agents": agents}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()


def _rebuild_affected(
    con: duckdb.DuckDBPyConnection, inventory: Mapping[str, Agent], new: tuple[dict[str, Any], ...],
    baseline_days: int, lake: Lake,
) -> int:
    if not register_affected(con, new_event_files(lake, new), baseline_days):
        create_empty_outputs(con)
        return 0
    build_metrics(con, inventory, baseline_days=baseline_days, sessions_filter="affected", publish=False)
    return con.execute("select count(*) from affected").fetchall()[0][0]


def register_affected(con: duckdb.DuckDBPyConnection, files: list[str], baseline_days: int) -> bool:
    """The table `affected`: sessions the events in `files` can change (empty, and False, without files)."""
    if not files:
        con.execute("create table affected as select null::varchar as agent_id, null::varchar as session_id limit 0")
        return False
    con.execute(f"create view new_events as select * from {read_parquet(files)}")
    con.register("affected_arrow", affected_sessions(con, baseline_days=baseline_days))
    con.execute("create table affected as select * from affected_arrow")
    con.unregister("affected_arrow")
    return True


def create_empty_outputs(con: duckdb.DuckDBPyConnection) -> None:
    """Nothing to rebuild: empty outputs shaped like the stored tables."""
    con.execute("create table metrics_steps as select * from steps limit 0")
    con.execute("create table metrics_sessions as select * from sessions limit 0")


def _write_table(con: duckdb.DuckDBPyConnection, writer: LakeWriter, name: str, mode: str) -> int:
    """Stage the table's new content; its rows. A full run replaces the table. An incremental run
    rewrites only the stored files that hold an affected session (without those sessions) and adds
    the rebuilt sessions as a new file, so a night of new sessions writes in proportion to them; past
    MAX_TABLE_FILES files the whole table is rewritten as one (compaction)."""
    rebuilt, order = OUTPUT_TABLES[name], TABLE_ORDER[name]
    stored = {key: out for key, out in live_files(writer.entries).items() if out["table"] == name}
    if mode == "full" or len(stored) >= MAX_TABLE_FILES:
        source = f"select * from {rebuilt}"
        if mode != "full":
            source = (f"select * from {read_parquet(writer.lake.store.uri(k) for k in stored)} "
                      f"anti join affected using (agent_id, session_id) union all by name {source}")
        return writer.replace(name, con.sql(f"{source} order by {order}")).rows
    touched = _files_with_affected(con, writer, stored)
    rows = sum(out["rows"] for key, out in stored.items() if key not in touched)
    for key, affected_rows in touched.items():
        writer.remove(key)
        if stored[key]["rows"] > affected_rows:  # rows of other sessions stay: the file is rewritten without these
            kept = con.sql(f"select * from {read_parquet([writer.lake.store.uri(key)])} "
                           f"anti join affected using (agent_id, session_id) order by {order}")
            rows += writer.append(name, kept).rows
    new = con.execute(f"select count(*) from {rebuilt}").fetchall()[0][0]
    if new or rows == 0:  # an empty table keeps one (empty) file, so its view stays
        rows += writer.append(name, con.sql(f"select * from {rebuilt} order by {order}")).rows
    return rows


def _files_with_affected(
    con: duckdb.DuckDBPyConnection, writer: LakeWriter, stored: dict[str, Any],
) -> dict[str, int]:
    """The stored files that hold rows of an affected session, with how many (a scan of the key columns)."""
    by_uri = {writer.lake.store.uri(key): key for key in stored}
    found = con.sql(f"select filename, count(*) from read_parquet({sql_list(by_uri)}, filename = true, "
                    f"union_by_name = true) semi join affected using (agent_id, session_id) "
                    f"group by filename").fetchall()
    if any(f not in by_uri for f, _ in found):  # DuckDB named a file otherwise than we did: rewrite them all
        return dict.fromkeys(stored, 0)
    return {by_uri[f]: n for f, n in found}
