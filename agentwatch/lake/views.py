"""The lake's views (stable names the app, notebooks and users' queries rely on).

One view per committed table, reading exactly the files the manifest lists; `events` and
`quarantine` and `metric_points` exist (empty) before anything is ingested; `session_usage` adds up the
agents' usage counters of `metric_points` per agent and session. Views over several tables keep the first
table's name: `sessions` (metrics with the detectors' scores and `in_inventory`), `findings` (every
writer's), `alerts` (with the latest analyst state), `agents` (the inventory snapshot, and every
agent seen in events, `in_inventory` telling which). `manifest` has one row per input file of each
batch, `manifest_files` one per committed Parquet file.

A table whose listed file is gone becomes a view that fails naming the file (and `verify`), so
queries over the other tables still work. Helper tables live in a schema of their own, so
`show tables` lists the views only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from agentwatch.lake.inventory import inventory_rows, use_inventory
from agentwatch.lake.layout import EVENTS, INVENTORY, METRIC_POINTS, QUARANTINE
from agentwatch.lake.sql import quote_literal, read_parquet
from agentwatch.schema import EVENT_SCHEMA, METRIC_POINT_SCHEMA, QUARANTINE_SCHEMA

if TYPE_CHECKING:
    from agentwatch.lake.core import Lake

INTERNAL = "lake_internal"
EMPTY_SCHEMAS = {EVENTS: EVENT_SCHEMA, QUARANTINE: QUARANTINE_SCHEMA, METRIC_POINTS: METRIC_POINT_SCHEMA}
SESSION_USAGE_SQL = (Path(__file__).parent / "session_usage.sql").read_text()
Sources = dict[str, str]  # table -> what a query selects from to read it


def create_views(
    con: duckdb.DuckDBPyConnection, lake: Lake, tables: dict[str, list[str]], entries: list[dict],
    inventory: Path | None,
) -> None:
    """Create every view of the lake as its manifest stands."""
    con.execute(f"create schema {INTERNAL}")
    sources, broken = {}, {}
    for name in sorted({*tables, *EMPTY_SCHEMAS}):
        missing = [key for key in tables.get(name, ()) if not lake.store.is_file(key)]
        if missing:
            broken[name] = (f"table {name} cannot be read: its file {missing[0]} is missing from the lake "
                            f"{lake.location} (run `agentwatch verify`)")
            continue
        sources[name] = _table_source(con, name, [lake.store.uri(k) for k in tables.get(name, ())])
    for name, source in sources.items():
        extra = ", try(decode(raw)) as raw_text" if name == QUARANTINE else ""
        con.execute(f"create view {name} as select *{extra} from {source}")
    for name, message in broken.items():
        _broken_view(con, name, message)
    _declared_source(con, lake, sources, broken, inventory)
    for name, (members, build) in JOINED_VIEWS.items():
        _joined_view(con, name, members(sources, broken), build, sources, broken)
    _arrow_table(con, "manifest", _manifest_inputs(entries))
    _arrow_table(con, "manifest_files", _manifest_outputs(entries))


def _table_source(con: duckdb.DuckDBPyConnection, name: str, uris: list[str]) -> str:
    if uris:
        return read_parquet(uris)
    _arrow_table(con, f"{INTERNAL}.{name}_empty", EMPTY_SCHEMAS[name].empty_table())
    return f"{INTERNAL}.{name}_empty"


def _declared_source(
    con: duckdb.DuckDBPyConnection, lake: Lake, sources: Sources, broken: dict, inventory: Path | None,
) -> None:
    """What `agents` reads as declared: the given inventory, else the lake's snapshot; with neither
    there is no `agents` view (and no session's agent is in the inventory)."""
    if inventory is not None:
        _arrow_table(con, f"{INTERNAL}.declared", inventory_rows(use_inventory(lake, inventory, remember=False)))
    elif INVENTORY in sources:
        con.execute(f"create table {INTERNAL}.declared as select * exclude (entry_json) from {sources[INVENTORY]}")
    else:
        return
    con.execute(f"alter table {INTERNAL}.declared drop column if exists entry_json")
    sources["declared"] = f"{INTERNAL}.declared"


def _broken_view(con: duckdb.DuckDBPyConnection, name: str, message: str) -> None:
    failing = f"error({quote_literal(message)}) is null"  # a filter, so no query can prune it away
    con.execute(f"create or replace view {name} as select * from range(1) where {failing}")


def _joined_view(
    con: duckdb.DuckDBPyConnection, name: str, members: list[str], build: Callable[[Sources], str],
    sources: Sources, broken: dict[str, str],
) -> None:
    if not members:
        return
    failed = [broken[m] for m in members if m in broken]
    if failed:
        _broken_view(con, name, failed[0])
        return
    con.execute(f"create or replace view {name} as {build(sources)}")


def _arrow_table(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    """A table holding an Arrow table's rows (registered Arrow objects would show up as views)."""
    con.register("lake_arrow", table)
    con.execute(f"create table {name} as select * from lake_arrow")
    con.unregister("lake_arrow")


def _sessions_members(sources: Sources, broken: dict) -> list[str]:
    if "sessions" not in sources and "sessions" not in broken:
        return []
    return [t for t in ("sessions", "session_scores", "declared") if t in sources or t in broken]


def _sessions_view(sources: Sources) -> str:
    """Metrics per session, the detectors' scores beside them once `detect` has run, and whether
    the session's agent is in the inventory."""
    known = f"m.agent_id in (select agent_id from {sources['declared']})" if "declared" in sources else "false"
    if "session_scores" not in sources:
        return f"select m.*, {known} as in_inventory from {sources['sessions']} m"
    return (f"select m.*, s.* exclude (agent_id, session_id), {known} as in_inventory from {sources['sessions']} m "
            f"left join {sources['session_scores']} s using (agent_id, session_id)")


def _union(sources: Sources, members: list[str]) -> str:
    return " union all by name ".join(f"select * from {sources[m]}" for m in members)


def _findings_members(sources: Sources, broken: dict) -> list[str]:
    return [n for n in sorted({*sources, *broken}) if n == "findings" or n.endswith("_findings")]


def _findings_view(sources: Sources) -> str:
    """Every writer's findings in one view: `findings` (detect) and any `*_findings` (risk, ...)."""
    return _union(sources, _findings_members(sources, {}))


def _alerts_members(sources: Sources, broken: dict) -> list[str]:
    alerts = [n for n in ("alerts", "risk_alerts") if n in sources or n in broken]
    return [*alerts, "alert_state"] if alerts and ("alert_state" in sources or "alert_state" in broken) else alerts


def _alerts_view(sources: Sources) -> str:
    """Alerts of every writer (`alerts`, `risk_alerts`) with the latest analyst state (new until
    someone acknowledges or closes it)."""
    alerts = f"({_union(sources, [n for n in ('alerts', 'risk_alerts') if n in sources])})"
    if "alert_state" not in sources:
        return (f"select *, 'new' as status, null::varchar as status_by, null::varchar as status_note, "
                f"null::timestamp as status_at, null::varchar as close_reason from {alerts}")
    return (
        f"select a.*, coalesce(s.status, 'new') as status, s.\"by\" as status_by, s.note as status_note, "
        f"s.\"at\" as status_at, s.close_reason from {alerts} a left join ("
        f"select * from {sources['alert_state']} qualify row_number() over (partition by alert_key "
        f"order by \"at\" desc, status desc) = 1) s using (alert_key)"
    )


def _agents_members(sources: Sources, broken: dict) -> list[str]:
    if INVENTORY in broken:
        return [EVENTS, INVENTORY]
    return [EVENTS, "declared"] if "declared" in sources else []


def _agents_view(sources: Sources) -> str:
    """One row per agent declared or seen in events: what the inventory says, and `in_inventory`."""
    return (f"select agent_id, d.* exclude (agent_id), d.agent_id is not null as in_inventory "
            f"from {sources['declared']} d full join (select distinct agent_id from {sources[EVENTS]}) e "
            f"using (agent_id) order by agent_id")


def _usage_members(sources: Sources, broken: dict) -> list[str]:
    return [METRIC_POINTS]


def _usage_view(sources: Sources) -> str:
    """The agents' usage counters added up per agent and session (`session_usage.sql`)."""
    return SESSION_USAGE_SQL


# Views over more than one table: name -> (the tables it reads, how it is built); it keeps the first's name.
JOINED_VIEWS = {
    "session_usage": (_usage_members, _usage_view),
    "sessions": (_sessions_members, _sessions_view),
    "findings": (_findings_members, _findings_view),
    "alerts": (_alerts_members, _alerts_view),
    "agents": (_agents_members, _agents_view),
}


def _manifest_inputs(entries: list[dict]) -> pa.Table:
    rows = [
        {"entry_seq": e["seq"], "batch_id": e.get("batch_id"), "committed_at": e.get("committed_at"),
         **{k: v for k, v in i.items() if k != "skipped"}, "skipped": sum(i.get("skipped", {}).values())}
        for e in entries for i in e.get("inputs", ())
    ]
    return pa.Table.from_pylist(rows) if rows else pa.table({"entry_seq": pa.array([], pa.int64())})


def _manifest_outputs(entries: list[dict]) -> pa.Table:
    rows = [{"entry_seq": e["seq"], "kind": e.get("kind"), **o} for e in entries for o in e.get("outputs", ())]
    return pa.Table.from_pylist(rows) if rows else pa.table({"entry_seq": pa.array([], pa.int64())})
