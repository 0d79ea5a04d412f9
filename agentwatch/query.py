"""Run one read-only query a person typed, and turn DuckDB's errors into ones they can act on.

DuckDB's messages are good ("Did you mean ...") but span several lines, may quote lake values (so
attacker text), and suggest `pg_settings` when a view is missing only because a stage has not run
yet. Here they become one inert line that names the stage to run, with the position in the query.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import duckdb

from agentwatch.errors import InvalidSql
from agentwatch.inert import inert_text

# Stable views that appear only once a stage has written them, and what to do to get them.
VIEW_SOURCES = {
    "steps": "run `agentwatch metrics` or `agentwatch run` first",
    "sessions": "run `agentwatch metrics` or `agentwatch run` first",
    "findings": "run `agentwatch detect` or `agentwatch run` first",
    "alerts": "run `agentwatch detect` or `agentwatch run` first",
    "agent_risk": "run `agentwatch risk` or `agentwatch run` first",
    "agents": "it lists the inventory: give --inventory FILE or set AGENTWATCH_INVENTORY",
}
# Columns `detect` adds to `sessions`.
SCORE_COLUMNS = {"anomaly_score", "risk_score", "flagged", "reasons", "top_features"}
MISSING_VIEW = re.compile(r"Table with name (\w+) does not exist!")
MISSING_COLUMN = re.compile(r'Referenced column "(\w+)" not found')
FETCH_CHUNK = 10_000
DENIED_FILE = re.compile(r'Cannot access file "(.*)" - file system operations are disabled', re.DOTALL)
POSITION = re.compile(r"\n\nLINE (\d+): ([^\n]*)\n( *)\^")


def run_query(con: duckdb.DuckDBPyConnection, query: str) -> duckdb.DuckDBPyConnection:
    """The executed query, its rows not yet fetched; InvalidSql for anything but one read-only statement."""
    check_query(query)
    try:
        return con.execute(query)
    except duckdb.Error as exc:
        raise explain_error(exc) from None


def check_query(query: str) -> None:
    """InvalidSql unless the text is exactly one read-only statement (the `sql` command and the app's hunt)."""
    from agentwatch.lake import check_read_only

    try:
        count = len(duckdb.extract_statements(query))
    except duckdb.Error as exc:
        raise explain_error(exc) from None
    if count > 1:
        raise InvalidSql(f"{count} statements given; run one query at a time", "the query")
    check_read_only(query)


def column_names(cursor: duckdb.DuckDBPyConnection) -> list[str]:
    """The columns of an executed query."""
    return [d[0] for d in cursor.description or ()]


def fetch_chunks(cursor: duckdb.DuckDBPyConnection, limit: int) -> Iterator[list[tuple]]:
    """Rows in chunks, at most `limit` in all (0: every row), so an export never holds the whole result."""
    remaining = limit or None
    try:
        while remaining is None or remaining > 0:
            chunk = cursor.fetchmany(FETCH_CHUNK if remaining is None else min(FETCH_CHUNK, remaining))
            if not chunk:
                return
            remaining = None if remaining is None else remaining - len(chunk)
            yield chunk
    except duckdb.Error as exc:  # values are converted while fetching: a bad cast fails here
        raise explain_error(exc) from None


def count_rest(cursor: duckdb.DuckDBPyConnection) -> int:
    """How many rows the query has beyond those fetched (read in chunks, never held)."""
    return sum(len(chunk) for chunk in fetch_chunks(cursor, 0))


def explain_error(exc: duckdb.Error) -> InvalidSql:
    """DuckDB's error as one inert line, with the next step when the cause is a stage not yet run."""
    text = str(exc)
    position = POSITION.search(text)
    head = text[: position.start()] if position else text
    return InvalidSql(_advice(head) or _one_line(head), _where(position))


def _advice(head: str) -> str | None:
    view = MISSING_VIEW.search(head)
    if view and view.group(1) in VIEW_SOURCES:
        return f"no view {view.group(1)} in this lake yet ({VIEW_SOURCES[view.group(1)]})"
    column = MISSING_COLUMN.search(head)
    if column and column.group(1) in SCORE_COLUMNS:
        return f"{_one_line(head)}; sessions get {column.group(1)} once `agentwatch detect` has run"
    denied = DENIED_FILE.search(head)
    if denied:
        return (f"reading files is refused ({inert_text(denied.group(1))}): a query reads only the lake's "
                f"views (`show tables` lists them)")
    return None


def _one_line(head: str) -> str:
    return " ".join(inert_text(line.strip()) for line in head.splitlines() if line.strip())


def _where(position: re.Match[str] | None) -> str:
    if position is None:
        return "the query"
    line, shown, indent = position.groups()
    if shown.startswith("..."):  # DuckDB shows a window of a long line: the caret's column is not the query's
        return f"the query at line {line}"
    return f"the query at line {line}, column {len(indent) - len(f'LINE {line}: ') + 1}"

