"""The DuckDB catalog: an in-memory connection with the lake's stable views.

DuckDB keeps no state of its own here: every reader opens a fresh in-memory connection whose views
read the Parquet files the manifest lists (never files a writer has not committed), so the nightly
writer never locks out the app or a notebook.

Views: `events`, `quarantine`, `manifest` (one row per input file of each batch), `manifest_files`
(one row per committed Parquet file), every derived table the manifest lists (`steps`, `sessions`,
`findings`, `alerts`, `agent_risk`, ... as later stages commit them), and `agents` when an inventory
is given.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import duckdb
import pyarrow as pa

from agentwatch.errors import InvalidSql, TamperError
from agentwatch.ingest.manifest import live_files, read_entries
from agentwatch.ingest.schema import EVENT_SCHEMA, QUARANTINE_SCHEMA
from agentwatch.ingest.stage import sql_list
from agentwatch.inventory import DIMENSIONS, load_inventory

# Statements `agentwatch sql` and the app accept: reading only (EXPLAIN ANALYZE would run a COPY).
READ_ONLY_STATEMENTS = {"SELECT"}
# A manifest names its tables; a name is an identifier in SQL, so only these shapes are accepted.
TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
EMPTY_SCHEMAS = {"events": EVENT_SCHEMA, "quarantine": QUARANTINE_SCHEMA}


def connect(lake: Path, *, inventory: Path | None = None, hardened: bool = True) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory connection with the lake's views; hardened: no file access outside the lake."""
    con = duckdb.connect(":memory:")
    con.execute("set TimeZone = 'UTC'")
    with contextlib.suppress(duckdb.InvalidInputException):  # Jupyter without ipywidgets: off, and unsettable
        con.execute("set enable_progress_bar = false")
    if hardened:  # before any view exists: only the lake's table folders are readable, nothing writable
        tables = {out["table"] for out in live_files(read_entries(lake)).values()}
        folders = [str((lake / f).resolve()) for f in sorted({"events", "_quarantine", *tables})]
        con.execute("set allowed_directories = ?", [folders])
        con.execute("set enable_external_access = false")
        con.execute("set lock_configuration = true")
    refresh_views(con, lake)
    if inventory is not None:
        register_inventory(con, inventory)
    return con


def refresh_views(con: duckdb.DuckDBPyConnection, lake: Path) -> None:
    """(Re)create every view from the manifest as it is now."""
    entries = read_entries(lake)
    tables: dict[str, list[str]] = {}
    for rel, out in live_files(entries).items():
        if not TABLE_NAME.match(out["table"]):
            raise TamperError(f"manifest names a table {out['table']!r} that is not an identifier", str(lake))
        tables.setdefault(out["table"], []).append(str(lake / rel))
    sources = {name: _table_source(con, name, tables.get(name, [])) for name in sorted({*tables, *EMPTY_SCHEMAS})}
    for name, source in sources.items():
        extra = ", try(decode(raw)) as raw_text" if name == "quarantine" else ""
        con.execute(f"create or replace view {name} as select *{extra} from {source}")
    for name, build in JOINED_VIEWS.items():
        sql = build(sources)
        if sql is not None:
            con.execute(f"create or replace view {name} as {sql}")
    con.register("manifest_arrow", _manifest_inputs(entries))
    con.execute("create or replace view manifest as select * from manifest_arrow")
    con.register("manifest_files_arrow", _manifest_outputs(entries))
    con.execute("create or replace view manifest_files as select * from manifest_files_arrow")


def _table_source(con: duckdb.DuckDBPyConnection, name: str, files: list[str]) -> str:
    if files:
        return f"read_parquet({sql_list(files)}, hive_partitioning = true, union_by_name = true)"
    con.register(f"{name}_empty", EMPTY_SCHEMAS[name].empty_table())
    return f"{name}_empty"


def _sessions_view(sources: dict[str, str]) -> str | None:
    """Metrics per session, with the detectors' scores beside them once `detect` has run."""
    if "sessions" not in sources:
        return None
    if "session_scores" not in sources:
        return f"select * from {sources['sessions']}"
    return (f"select m.*, s.* exclude (agent_id, session_id) from {sources['sessions']} m "
            f"left join {sources['session_scores']} s using (agent_id, session_id)")


def _union(sources: dict[str, str], members: list[str]) -> str:
    return " union all by name ".join(f"select * from {sources[m]}" for m in members)


def _findings_view(sources: dict[str, str]) -> str | None:
    """Every writer's findings in one view: `findings` (detect) and any `*_findings` (risk, ...)."""
    members = [n for n in sorted(sources) if n == "findings" or n.endswith("_findings")]
    return _union(sources, members) if members else None


def _alerts_view(sources: dict[str, str]) -> str | None:
    """Alerts of every writer (`alerts`, `risk_alerts`) with the latest analyst state (new until
    someone acknowledges or closes it)."""
    members = [n for n in ("alerts", "risk_alerts") if n in sources]
    if not members:
        return None
    alerts = f"({_union(sources, members)})"
    if "alert_state" not in sources:
        return (f"select *, 'new' as status, null::varchar as status_by, null::varchar as status_note, "
                f"null::timestamp as status_at, null::varchar as close_reason from {alerts}")
    return (
        f"select a.*, coalesce(s.status, 'new') as status, s.\"by\" as status_by, s.note as status_note, "
        f"s.\"at\" as status_at, s.close_reason from {alerts} a left join ("
        f"select * from {sources['alert_state']} qualify row_number() over (partition by alert_key "
        f"order by \"at\" desc, status desc) = 1) s using (alert_key)"
    )


# Views over more than one table: the view keeps the first table's name.
JOINED_VIEWS = {"sessions": _sessions_view, "findings": _findings_view, "alerts": _alerts_view}


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


def register_inventory(con: duckdb.DuckDBPyConnection, inventory: Path) -> None:
    """The `agents` view: one row per inventory entry, declared scores as columns."""
    agents = load_inventory(inventory)
    rows = [
        {"agent_id": a.agent_id, "owner": a.owner, "purpose": a.purpose, "business_value": a.business_value,
         **{f"declared_{d}": a.declared[d] for d in DIMENSIONS},
         "allowed_tools": list(a.allowed_tools), "approval_required": list(a.approval_required)}
        for a in agents.values()
    ]
    con.register("agents_arrow", pa.Table.from_pylist(rows))
    con.execute("create or replace view agents as select * from agents_arrow")


def check_read_only(sql: str) -> None:
    """Refuse anything but read-only statements (the lake folder is otherwise writable via COPY)."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise InvalidSql(f"cannot parse query: {exc}") from exc
    if not statements:
        raise InvalidSql("empty query")
    for statement in statements:
        if statement.type.name not in READ_ONLY_STATEMENTS:
            raise InvalidSql(f"statement must be a read-only query (SELECT, WITH, ...), got {statement.type.name}")
