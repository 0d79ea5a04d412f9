"""Reconcile a staged batch with itself and the lake before deduplication.

What one record cannot know, the batch and the lake can: an OTLP span exported before its parent
takes the parent's session and agent (`identity_fixes.sql`), and a tool result that names only its
call's id takes the call's tool name (`tool_name_fixes.sql`). Both run before deduplication, so a
span re-sent in another export batch gets the same key however it was batched.

The lake is searched within a day either side of the batch's dates (a run's spans, a call and its
result, are that close), and only for the traces and calls the batch needs; events already committed
are never rewritten (so children ingested in a run before their parent's keep the trace as session).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb

from agentwatch.lake import sql_list

SQL_DIR = Path(__file__).parent / "sql"
LAKE_COLUMNS = ("source_format", "agent_id", "session_id", "trace_id", "span_id", "parent_span_id",
                "event_type", "tool_call_id", "tool_name", "attrs", "flags")


def reconcile_staged(con: duckdb.DuckDBPyConnection, lake_files: list[str]) -> None:
    """Create the view `staged` over `staged_raw`, identities and tool names reconciled."""
    days = [r[0] for r in con.execute("select distinct ts::date from staged_raw").fetchall()]
    near = _near_days(days)
    files = [f for f in lake_files if any(f"/date={d}/" in f for d in near)]
    columns = ", ".join(LAKE_COLUMNS)
    source = f"read_parquet({sql_list(files)})" if files else "staged_raw limit 0"
    con.execute(f"create view lake_events as select {columns} from {source}")
    con.execute((SQL_DIR / "orphan_traces.sql").read_text())
    _build(con, "identity_fixes", "staged_identified", "staged_raw")
    _build(con, "tool_name_fixes", "staged", "staged_identified")


def _build(con: duckdb.DuckDBPyConnection, fixes: str, view: str, source: str) -> None:
    """The fixes table, then the view applying it; with no fixes the view is its source as is (the
    joins would cost every read of a native batch for nothing)."""
    con.execute((SQL_DIR / f"{fixes}.sql").read_text())
    if con.execute(f"select count(*) from {fixes}").fetchall()[0][0]:
        con.execute((SQL_DIR / f"{view}.sql").read_text())
    else:
        con.execute(f"create view {view} as select * from {source}")


def _near_days(days: list[date]) -> set[str]:
    return {str(d + timedelta(days=k)) for d in days for k in (-1, 0, 1)}
