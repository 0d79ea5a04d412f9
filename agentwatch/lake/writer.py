"""Writing to the lake: a writer holds the lock, stages table files and commits them in one
manifest entry. Files are renamed into place before the commit but stay invisible until an entry
lists them; a writer that dies first leaves them behind, and the next writer removes them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from agentwatch.errors import LakeError
from agentwatch.lake.layout import SERVICE_ENTRIES, check_table_name, part_seq, table_folder
from agentwatch.lake.manifest import append_entry, live_files
from agentwatch.lake.store import LocalStore, sha256_file

if TYPE_CHECKING:
    from agentwatch.lake.core import Lake

ROW_GROUP_ROWS = 122_880
Frame = pa.Table | pl.DataFrame | duckdb.DuckDBPyRelation


@dataclass(frozen=True)
class Output:
    """One Parquet file a commit adds to the lake."""

    table: str
    path: str  # key, relative to the lake
    rows: int
    bytes: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        """The manifest's record of this file."""
        return {"table": self.table, "path": self.path, "rows": self.rows, "bytes": self.bytes, "sha256": self.sha256}


def uncommitted_files(store: LocalStore, entries: list[dict[str, Any]]) -> list[str]:
    """Data files a writer renamed into place for an entry it never committed (seq past the head),
    and files a commit replaced that its writer did not get to remove."""
    live = live_files(entries)
    removed = {key for e in entries for key in e.get("removes", ()) if key not in live}
    tables = [name for name in store.top_level() if name not in SERVICE_ENTRIES]
    return [key for name in tables for key in store.list(name)
            if (part_seq(key) or 0) > len(entries) or key in removed]


class LakeWriter:
    """Stages table files for one manifest entry; `commit` makes them visible at once."""

    def __init__(self, lake: Lake):
        self.lake = lake
        self._outputs: list[Output] = []
        self._replaced: set[str] = set()
        self._removed: list[str] = []
        self._entries = lake.entries()

    @property
    def entries(self) -> list[dict[str, Any]]:
        """The manifest entries committed so far (this writer's own commits included)."""
        return self._entries

    @property
    def seq(self) -> int:
        """The sequence number the next commit will have (names this writer's files)."""
        return len(self._entries) + 1

    @property
    def tmp_dir(self) -> Path:
        """A local scratch folder for this writer's staging (cleared when the next writer starts)."""
        return self.lake.store.scratch(f"writer-{self.seq:08d}")

    def connection(
        self, *, memory_limit: str | None = None, inventory: Path | None = None,
    ) -> duckdb.DuckDBPyConnection:
        """A connection with the lake's committed views, not hardened (for building tables); it
        spills to this writer's scratch folder beyond `memory_limit`."""
        return self.lake.connect(hardened=False, memory_limit=memory_limit, spill_dir=self.tmp_dir / "spill",
                                 inventory=inventory)

    def replace(self, table: str, data: Frame) -> Output:
        """Stage the new full content of a table: on commit its previous files are removed."""
        self._replaced.add(check_table_name(table))
        return self._stage(table, data)

    def remove(self, key: str) -> None:
        """Drop one committed file of a table on commit (its rows are rewritten elsewhere, or gone)."""
        live = live_files(self._entries)
        if key not in live:
            raise LakeError(f"{key!r} is not a committed file", self.lake.location)
        check_table_name(live[key]["table"])
        if key not in self._removed:
            self._removed.append(key)

    def append(self, table: str, data: Frame) -> Output:
        """Stage rows added to a table."""
        return self._stage(check_table_name(table), data)

    def publish(self, local: Path, table: str, key: str) -> Output:
        """Move a finished Parquet file into the table's folder under `key` (ingest names its own)."""
        check_table_name(table, writer=False)
        if not key.startswith(table_folder(table) + "/") or part_seq(key) != self.seq:
            raise LakeError(f"{key!r} is not a file name of table {table!r} for entry {self.seq}", "lake")
        output = Output(table, key, pq.ParquetFile(local).metadata.num_rows, local.stat().st_size,
                        sha256_file(local))
        self.lake.store.put_file(local, key)
        self._outputs.append(output)
        return output

    def commit(self, kind: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Write the manifest entry that adds the staged files (and removes replaced tables' old ones)."""
        stale = [key for key, out in live_files(self._entries).items()
                 if out["table"] in self._replaced or key in self._removed]
        entry = append_entry(self.lake.store, self._entries, {
            **(extra or {}), "kind": kind, "outputs": [o.as_dict() for o in self._outputs], "removes": stale,
        })
        for key in stale:
            self.lake.store.delete(key)
        self._outputs, self._replaced, self._removed = [], set(), []
        self._entries = [*self._entries, entry]
        return entry

    def _stage(self, table: str, data: Frame) -> Output:
        key = f"{table_folder(table)}/part-{self.seq:08d}-{len(self._outputs):04d}.parquet"
        local = self.tmp_dir / f"{table}-{len(self._outputs):04d}.parquet"
        write_parquet(local, data)
        return self.publish(local, table, key)


def write_parquet(path: Path, data: Frame) -> None:
    """Write any frame as one zstd Parquet file; a DuckDB relation streams, never held in memory."""
    if isinstance(data, pl.DataFrame):
        data = data.to_arrow()
    if isinstance(data, pa.Table):
        pq.write_table(data, path, compression="zstd", row_group_size=ROW_GROUP_ROWS)
        return
    # DuckDB writes a relation itself, streaming, in full row groups (Arrow batches from its reader
    # are often smaller than a row group, and each would become one: about twice the bytes)
    data.write_parquet(str(path), compression="zstd", row_group_size=ROW_GROUP_ROWS)
