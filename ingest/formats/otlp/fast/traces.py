"""Bulk decode of OTLP/JSON trace lines (the receiver's spool, Collector file exports): DuckDB parses
each request once into typed structs and maps spans to canonical events in SQL, with no Python
object per span.

Only lines the SQL can prove it reads exactly as the per-record path reads them are decoded here
(`otlp_fast_lines.sql` says how: every quote and colon of the raw line accounted for). GenAI
`chat`, `execute_tool` and agent spans, and spans of other operations, with string, int and bool
attributes and JSON-text messages, are the common case; a line with anything else (span events,
links, other attribute kinds, OpenInference spans, input histories, odd escapes, a malformed span)
is left to the per-record path (`ingest.decode.decode_line`), which owns the policy and the
quarantine reasons. Both paths give the same events for a line decoded here (tested).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from agentwatch.ingest.formats.otlp.spans import INPUT_TYPES
from agentwatch.ingest.records import micros_since_epoch
from agentwatch.schema import EVENT_SCHEMA, EVENT_TYPES

SQL_DIR = Path(__file__).parent / "sql"
# Each step is a temporary table named otlp_fast_<step>, built from otlp_fast_<step>.sql in this order.
STEPS = (
    "requests", "resource_entries", "scope_entries", "span_entries", "resources", "scopes", "spans", "attributes",
    "lines", "facts", "identity", "parts", "decoded",
)
REQUIRED = ("event_id", "ts_us", "agent_id", "session_id", "seq", "event_type", "attrs")


@dataclass(frozen=True)
class PreparedLines:
    """Lines decoded in bulk: their events (EVENT_SCHEMA plus `line_no`) and the line numbers decoded."""

    events: pa.Table
    done: pa.Array

    def take(self, line_nos: pa.Array) -> tuple[pa.Table, pa.Array]:
        """The events (EVENT_SCHEMA) and decoded line numbers among `line_nos`."""
        done = self.done.filter(pc.is_in(self.done, line_nos))
        events = self.events.filter(pc.is_in(self.events.column("line_no"), done))
        return events.drop_columns(["line_no"]), done


def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()


def decode_otlp_fast(
    con: duckdb.DuckDBPyConnection, batch: pa.Table, source_file: str, source_format: str, latest: datetime
) -> PreparedLines:
    """Decode the lines of `batch` (line_no, source_offset, line) the bulk path can prove: their
    events and the line numbers decoded (some may have no event: an empty request)."""
    params = {"event_types": list(EVENT_TYPES), "input_types": sorted(INPUT_TYPES),
              "latest_us": micros_since_epoch(latest)}
    return run_bulk_steps(con, batch, "otlp_fast", STEPS, params, source_file, source_format)


def run_bulk_steps(
    con: duckdb.DuckDBPyConnection, batch: pa.Table, prefix: str, steps: tuple[str, ...], params: dict,
    source_file: str, source_format: str,
) -> PreparedLines:
    """Build each step as a temporary table `<prefix>_<step>` from `<prefix>_<step>.sql`, then the
    events (`<prefix>_events.sql`, bound to `params`) of the lines in `<prefix>_decoded`."""
    con.execute(_sql("otlp_fast_macros"))
    con.register("otlp_batch", batch.select(["line_no", "source_offset", "line"]))
    try:
        for step in steps:
            con.execute(f"create or replace temp table {prefix}_{step} as {_sql(f'{prefix}_{step}')}")
        rows = con.sql(_sql(f"{prefix}_events"), params=params).to_arrow_table()
        decoded = con.sql(f"select line_no from {prefix}_decoded").to_arrow_table().column("line_no")
    finally:
        con.unregister("otlp_batch")
        for step in steps:
            con.execute(f"drop table if exists {prefix}_{step}")
    rows, decoded = _drop_incomplete(rows, decoded)
    events = _event_table(rows, source_file, source_format).append_column("line_no", rows.column("line_no"))
    return PreparedLines(events, decoded)


def _drop_incomplete(rows: pa.Table, decoded: pa.ChunkedArray) -> tuple[pa.Table, pa.Array]:
    """A line with an event the SQL could not complete (e.g. a text it would not escape) goes back."""
    missing = pc.is_null(rows.column(REQUIRED[0]))
    for name in REQUIRED[1:]:
        missing = pc.or_(missing, pc.is_null(rows.column(name)))
    lines = decoded.combine_chunks().cast(pa.int64())
    if pc.any(missing).as_py():
        bad = pc.unique(rows.filter(missing).column("line_no"))
        rows = rows.filter(pc.invert(pc.is_in(rows.column("line_no"), bad)))
        lines = lines.filter(pc.invert(pc.is_in(lines, bad)))
    return rows, lines


def _event_table(rows: pa.Table, source_file: str, source_format: str) -> pa.Table:
    n = len(rows)
    columns = {name: rows.column(name) for name in rows.column_names if name in EVENT_SCHEMA.names}
    columns["ts"] = rows.column("ts_us").cast(pa.timestamp("us", tz="UTC"))
    columns["redactions"] = pa.array([0] * n, pa.int32())
    columns["source_format"] = pa.array([source_format] * n, pa.string())
    columns["source_file"] = pa.array([source_file] * n, pa.string())
    return pa.table([columns[f.name].cast(f.type) for f in EVENT_SCHEMA], schema=EVENT_SCHEMA)
