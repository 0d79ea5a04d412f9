"""The lake object: its location, its entries and tables, the writer, the reader connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from agentwatch.errors import LakeError
from agentwatch.lake.connection import open_connection
from agentwatch.lake.layout import MANIFEST_DIR
from agentwatch.lake.manifest import entry_keys, live_files, read_entries
from agentwatch.lake.store import open_store
from agentwatch.lake.writer import LakeWriter, uncommitted_files


class Lake:
    """A lake at one location (a local folder today; the store hides which)."""

    def __init__(self, location: str | Path):
        self.store = open_store(location)
        self.location = self.store.location

    @property
    def root(self) -> Path:
        """The local folder (for what must live beside the lake: spool, keys, Prefect's home)."""
        return self.store.root

    def __repr__(self) -> str:
        return f"Lake({self.location!r})"

    def exists(self) -> bool:
        """A manifest was ever committed here."""
        return self.store.exists(MANIFEST_DIR)

    def require(self) -> Lake:
        """This lake, or a LakeError naming the location when nothing was ever committed there."""
        if not self.exists():
            raise LakeError("no lake here (run `agentwatch ingest` or `agentwatch run` first)", self.location)
        return self

    def entries(self) -> list[dict[str, Any]]:
        """Manifest entries in commit order."""
        return read_entries(self.store)

    def head(self) -> str:
        """The key of the last committed entry ('' before the first): a cheap "lake as of now"."""
        return max(entry_keys(self.store), default="")

    def table_files(self, table: str) -> list[str]:
        """What DuckDB opens to read a table's committed files, in commit order."""
        return [self.store.uri(key) for key, out in live_files(self.entries()).items() if out["table"] == table]

    def tables(self) -> set[str]:
        """Names of the tables that have committed files."""
        return {out["table"] for out in live_files(self.entries()).values()}

    def connect(
        self, *, inventory: Path | None = None, hardened: bool = True, memory_limit: str | None = None,
        spill_dir: Path | None = None,
    ) -> duckdb.DuckDBPyConnection:
        """A fresh in-memory connection with the lake's views; hardened: an existing lake only, read-only,
        no file outside the lake's tables. `inventory` overrides the lake's snapshot in `agents`."""
        if hardened:
            self.require()
        return open_connection(self, inventory=inventory, hardened=hardened, memory_limit=memory_limit,
                               spill_dir=spill_dir)

    @contextmanager
    def writer(self) -> Iterator[LakeWriter]:
        """Hold the single-writer lock; what is not committed when the block ends is cleared next time."""
        with self.store.lock():
            self._remove_uncommitted()
            try:
                yield LakeWriter(self)
            finally:
                self.store.clear_scratch()

    def _remove_uncommitted(self) -> None:
        """Clear what a writer that died before its commit left: staging, and files no entry lists yet."""
        self.store.clear_scratch()
        for key in uncommitted_files(self.store, self.entries()):
            self.store.delete(key)
