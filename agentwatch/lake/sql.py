"""Values that go into SQL text where DuckDB takes no parameter (table functions, view bodies):
quoted here, in one place. Everything else is bound as a parameter."""

from __future__ import annotations

from collections.abc import Iterable


def quote_literal(value: str) -> str:
    """A SQL string literal, quotes doubled."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_list(values: Iterable[str]) -> str:
    """A SQL list literal of strings, each quoted."""
    return "[" + ", ".join(quote_literal(v) for v in values) + "]"


def quote_ident(name: str) -> str:
    """A SQL identifier, double quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def read_parquet(uris: Iterable[str], *, hive: bool = True) -> str:
    """A `read_parquet` call over these files (union by name: a table's schema may grow)."""
    return f"read_parquet({sql_list(uris)}, hive_partitioning = {str(hive).lower()}, union_by_name = true)"
