"""The read-only SQL surface: the lake's views (`agentwatch.lake.views`) on a hardened connection,
and the check that `agentwatch sql` and the app's hunts only read."""

from __future__ import annotations

from pathlib import Path

import duckdb

from agentwatch.errors import InvalidSql
from agentwatch.lake import Lake

# Statements `agentwatch sql` and the app accept: reading only (EXPLAIN ANALYZE would run a COPY).
READ_ONLY_STATEMENTS = {"SELECT"}


def connect(
    lake: Lake | Path | str, *, inventory: Path | None = None, hardened: bool = True,
) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory connection with the lake's views; hardened: an existing lake, read-only."""
    return (lake if isinstance(lake, Lake) else Lake(lake)).connect(inventory=inventory, hardened=hardened)


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
