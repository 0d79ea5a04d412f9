"""The lake: one object owns its location, the writer lock, atomic publish of table files, the
manifest commit and the reader connection. Every writer (ingest, metrics, detectors, risk,
escalation, analysts' state) goes through it; readers open their own in-memory DuckDB over the
committed Parquet files, so a writer never locks out the app or a notebook.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from agentwatch.errors import LakeError
from agentwatch.ingest.manifest import MANIFEST_DIR, append_entry, live_files, read_entries
from agentwatch.ingest.stage import TMP_DIR, Output, lake_lock, publish_output

TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
ROW_GROUP_ROWS = 122_880
Frame = pa.Table | pl.DataFrame | duckdb.DuckDBPyRelation


class Lake:
    """A lake at one location (a folder today)."""

    def __init__(self, location: str | Path):
        self.root = Path(location)

    def __repr__(self) -> str:
        return f"Lake({str(self.root)!r})"

    def exists(self) -> bool:
        """A manifest was ever committed here."""
        return (self.root / MANIFEST_DIR).is_dir()

    def require(self) -> Lake:
        """This lake, or a LakeError naming the location when nothing was ever committed there."""
        if not self.exists():
            raise LakeError("no lake here (run `agentwatch ingest` or `agentwatch run` first)", str(self.root))
        return self

    def entries(self) -> list[dict[str, Any]]:
        """Manifest entries in commit order."""
        return read_entries(self.root)

    def table_files(self, table: str) -> list[str]:
        """Absolute paths of a table's committed files, in commit order."""
        return [str(self.root / rel) for rel, out in live_files(self.entries()).items() if out["table"] == table]

    def tables(self) -> set[str]:
        """Names of the tables that have committed files."""
        return {out["table"] for out in live_files(self.entries()).values()}

    def connect(self, *, inventory: Path | None = None, hardened: bool = True) -> duckdb.DuckDBPyConnection:
        """A fresh in-memory connection with the lake's views; hardened: read-only, lake tables only."""
        from agentwatch.detectors.catalog import connect

        return connect(self.root, inventory=inventory, hardened=hardened)

    @contextmanager
    def writer(self) -> Iterator[LakeWriter]:
        """Hold the single-writer lock; what is not committed when the block ends is cleared next time."""
        with lake_lock(self.root):
            yield LakeWriter(self)


class LakeWriter:
    """Stages table files for one manifest entry; `commit` makes them visible at once."""

    def __init__(self, lake: Lake):
        self.lake = lake
        self._outputs: list[Output] = []
        self._replaced: set[str] = set()
        self._seq = len(lake.entries()) + 1

    @property
    def tmp_dir(self) -> Path:
        """A scratch folder inside the lake (same file system, so renames are atomic)."""
        path = self.lake.root / TMP_DIR / f"writer-{self._seq:08d}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def connection(self) -> duckdb.DuckDBPyConnection:
        """A connection with the lake's committed views, not hardened (for building tables)."""
        return self.lake.connect(hardened=False)

    def replace(self, table: str, data: Frame) -> Output:
        """Stage the new full content of a table: on commit its previous files are removed."""
        self._replaced.add(_check_name(table))
        return self._stage(table, data)

    def append(self, table: str, data: Frame) -> Output:
        """Stage rows added to a table."""
        return self._stage(_check_name(table), data)

    def commit(self, kind: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Write the manifest entry that adds the staged files (and removes replaced tables' old ones)."""
        entries = self.lake.entries()
        stale = [rel for rel, out in live_files(entries).items() if out["table"] in self._replaced]
        entry = append_entry(self.lake.root, {
            **(extra or {}), "kind": kind, "outputs": [o.as_dict() for o in self._outputs], "removes": stale,
        })
        for rel in stale:
            (self.lake.root / rel).unlink(missing_ok=True)
        self._outputs, self._replaced = [], set()
        self._seq = entry["seq"] + 1
        return entry

    def _stage(self, table: str, data: Frame) -> Output:
        rel = f"{table}/part-{self._seq:08d}-{len(self._outputs):04d}.parquet"
        tmp = self.tmp_dir / f"{table}-{len(self._outputs):04d}.parquet"
        _write_parquet(tmp, data)
        output = publish_output(self.lake.root, tmp, table, rel)
        self._outputs.append(output)
        return output


def _check_name(table: str) -> str:
    if not TABLE_NAME.match(table) or table in ("events", "quarantine"):
        raise LakeError(f"{table!r} is not a table a writer may replace or append to", "lake")
    return table


def _write_parquet(path: Path, data: Frame) -> None:
    """Write any frame as one zstd Parquet file, streaming DuckDB relations batch by batch."""
    if isinstance(data, pl.DataFrame):
        data = data.to_arrow()
    if isinstance(data, pa.Table):
        pq.write_table(data, path, compression="zstd", row_group_size=ROW_GROUP_ROWS)
        return
    with data.to_arrow_reader(batch_size=ROW_GROUP_ROWS) as reader, \
            pq.ParquetWriter(path, reader.schema, compression="zstd") as writer:
        for batch in reader:
            writer.write_batch(batch)
