"""The reader connection: a fresh in-memory DuckDB with the lake's views.

DuckDB keeps no state of its own here: every reader opens its own connection whose views read the
Parquet files the manifest lists (never files a writer has not committed). Settings go in through
`duckdb.connect(config=...)`; those DuckDB takes only once the database runs (time zone, hardening)
are set right after, with values bound. A hardened connection reads the lake's table folders and
nothing else, writes nothing, and its settings are locked.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from agentwatch.errors import ConfigError, InvalidSql, TamperError
from agentwatch.lake.layout import INGEST_FOLDERS, TABLE_NAME, table_folder
from agentwatch.lake.manifest import live_files
from agentwatch.lake.views import create_views

# Statements `agentwatch sql` and the app accept: reading only (EXPLAIN ANALYZE would run a COPY).
READ_ONLY_STATEMENTS = {"SELECT"}

if TYPE_CHECKING:
    from agentwatch.lake.core import Lake


def open_connection(
    lake: Lake, *, inventory: Path | None, hardened: bool, memory_limit: str | None, spill_dir: Path | None,
) -> duckdb.DuckDBPyConnection:
    """A connection with every view of the lake as its manifest stands now."""
    entries = lake.entries()
    tables = committed_tables(entries)
    con = connect_duckdb(memory_limit=memory_limit, spill_dir=spill_dir)
    if hardened:  # before any view exists: only the lake's table folders are readable, nothing writable
        folders = sorted({str((lake.root / table_folder(t)).resolve()) for t in {*tables, *INGEST_FOLDERS}})
        con.execute("set allowed_directories = ?", [folders])
        con.execute("set enable_external_access = false")
        con.execute("set lock_configuration = true")
    create_views(con, lake, tables, entries, inventory)
    return con


def committed_tables(entries: list[dict]) -> dict[str, list[str]]:
    """Table -> keys of its committed files, in commit order."""
    tables: dict[str, list[str]] = {}
    for key, out in live_files(entries).items():
        if not TABLE_NAME.match(out["table"]):
            raise TamperError(f"manifest names a table {out['table']!r} that is not an identifier", key)
        tables.setdefault(out["table"], []).append(key)
    return tables


def connect_duckdb(
    database: str = ":memory:", *, memory_limit: str | None = None, spill_dir: Path | None = None,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB (in memory, or a writer's staging file) in UTC; beyond `memory_limit` it spills to `spill_dir`."""
    config: dict[str, str | bool] = {"preserve_insertion_order": True}
    if memory_limit:
        config["memory_limit"] = str(memory_limit)
    if spill_dir is not None:
        config["temp_directory"] = str(spill_dir)
    try:
        con = duckdb.connect(database, config=config)
    except duckdb.Error as exc:
        raise ConfigError(f"`memory_limit` must be a size DuckDB reads, such as 2GB, got {memory_limit!r} "
                          f"({exc})", "memory_limit") from exc
    con.execute("set TimeZone = 'UTC'")  # needs the ICU extension, which loads only once the database runs
    with contextlib.suppress(duckdb.InvalidInputException):  # Jupyter without ipywidgets: off, and unsettable
        con.execute("set enable_progress_bar = false")
    return con


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
