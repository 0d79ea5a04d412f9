"""The detectors' way into the lake's views (`agentwatch.lake.views`): a connection, hardened unless
a stage builds tables with it."""

from __future__ import annotations

from pathlib import Path

import duckdb

from agentwatch.lake import Lake


def connect(
    lake: Lake | Path | str, *, inventory: Path | None = None, hardened: bool = True,
) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory connection with the lake's views; hardened: an existing lake, read-only."""
    return (lake if isinstance(lake, Lake) else Lake(lake)).connect(inventory=inventory, hardened=hardened)
