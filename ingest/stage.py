"""Staging for one ingest batch: decoded events collect in a DuckDB file under `_tmp/`, then are
deduplicated, sorted and written as Parquet that becomes visible only when the manifest commits it.

DuckDB spills to disk past its memory limit, so a batch of any size stays in bounded memory.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from agentwatch.errors import LakeError
from agentwatch.ingest.manifest import committed_files, publish, read_entries, sha256_file
from agentwatch.ingest.reconcile import reconcile_staged
from agentwatch.ingest.schema import EVENT_COLUMNS, EVENT_SCHEMA, QUARANTINE_SCHEMA

TMP_DIR = "_tmp"
ROW_GROUP_ROWS = 122_880
# Low-cardinality columns gain from dictionaries; free text only pays for them.
DICTIONARY_COLUMNS = ("agent_id", "session_id", "parent_session_id", "event_type", "actor", "model", "tool_name",
                      "status", "source_format", "source_file")
# Min/max statistics serve pruning on these; on free text they would only copy log text into the footer.
STATISTICS_COLUMNS = ("ts", "agent_id", "session_id", "seq", "event_type", "tool_name")


@contextmanager
def lake_lock(lake: Path) -> Iterator[None]:
    """Hold the lake's single-writer lock; a second writer fails at once with a clear error."""
    lake.mkdir(parents=True, exist_ok=True)
    with open(lake / "_lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise LakeError("another agentwatch process is writing this lake", str(lake)) from exc
        _remove_uncommitted(lake)
        yield


def _remove_uncommitted(lake: Path) -> None:
    """Clear what a writer that died before its commit left: staging, and files no entry lists yet."""
    shutil.rmtree(lake / TMP_DIR, ignore_errors=True)
    committed = len(read_entries(lake))
    for table_dir in (p for p in lake.iterdir() if p.is_dir() and p.name not in ("_manifest", "_keys", "_spool")):
        for path in table_dir.rglob("part-*.parquet"):
            seq = path.stem.split("-")[1]
            if seq.isdigit() and int(seq) > committed:
                path.unlink()


@dataclass(frozen=True)
class Output:
    """One Parquet file a batch adds to the lake."""

    table: str
    path: str  # relative to the lake
    rows: int
    bytes: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        """The manifest's record of this file."""
        return {"table": self.table, "path": self.path, "rows": self.rows, "bytes": self.bytes, "sha256": self.sha256}


DUPLICATES_SQL = (Path(__file__).parent / "duplicates.sql").read_text()


class _PartitionWriter:
    """Writes one date partition's rows, in arrival (sorted) order, to a temporary zstd file."""

    def __init__(self, folder: Path, batch_id: str, day: Any):
        self.day = day
        self.rel = f"events/date={day}/part-{batch_id}.parquet"
        self.path = folder / f"events-{day}.parquet"
        self.writer = pq.ParquetWriter(
            self.path, EVENT_SCHEMA, compression="zstd",
            use_dictionary=list(DICTIONARY_COLUMNS), write_statistics=list(STATISTICS_COLUMNS),
        )

    def write(self, table: pa.Table) -> None:
        self.writer.write_table(table.select(list(EVENT_COLUMNS)).cast(EVENT_SCHEMA), row_group_size=ROW_GROUP_ROWS)

    def close(self) -> Path:
        self.writer.close()
        return self.path


def _split_by_day(table: pa.Table) -> list[tuple[Any, pa.Table]]:
    """Contiguous runs of one day in a table sorted by day."""
    days = table.column("day").to_numpy(zero_copy_only=False)
    edges = np.flatnonzero(days[1:] != days[:-1]) + 1
    bounds = [0, *edges.tolist(), len(days)]
    return [(days[a], table.slice(a, b - a)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def sql_list(values: list[str]) -> str:
    """A SQL list literal of strings, quotes escaped (for table functions that take no parameters)."""
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


class Stage:
    """Collects one batch's events and quarantine rows, then writes them out."""

    def __init__(self, lake: Path, batch_id: str, memory_limit: str = "1GB"):
        self.lake = lake
        self.batch_id = batch_id
        self.dir = lake / TMP_DIR / batch_id
        self.dir.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(str(self.dir / "stage.duckdb"))
        self.con.execute(f"set memory_limit = '{memory_limit}'")
        self.con.execute(f"set temp_directory = '{self.dir / 'spill'}'")
        self.con.execute("set TimeZone = 'UTC'")
        self.con.execute("set preserve_insertion_order = true")
        self.con.execute("set enable_progress_bar = false")
        self.con.execute(
            "create table staged_quarantine (file_index integer, source_file varchar, source_format varchar, "
            "source_offset bigint, line_no bigint, reason varchar, raw blob, raw_truncated boolean, "
            "redactions integer)"
        )
        self._parts = 0
        self._rows = 0

    def add_events(self, file_index: int, table: pa.Table) -> None:
        """Stage decoded (already masked) events of one input file as a plain Parquet part."""
        if not len(table):
            return
        rows = np.arange(self._rows, self._rows + len(table), dtype=np.int64)
        self._rows += len(table)
        table = table.append_column("file_index", pa.array(np.full(len(table), file_index, np.int32)))
        table = table.append_column("stage_row", pa.array(rows))
        pq.write_table(table, self.dir / f"staged-{file_index:06d}-{self._parts:06d}.parquet", compression="none")
        self._parts += 1

    def add_quarantine(self, file_index: int, table: pa.Table) -> None:
        """Stage quarantined records (raw already masked) of one input file."""
        if len(table):
            self.con.register("qchunk", table)
            self.con.execute(
                "insert into staged_quarantine select ?, source_file, source_format, source_offset, line_no, "
                "reason, raw, raw_truncated, redactions from qchunk",
                [file_index],
            )
            self.con.unregister("qchunk")

    def drop_file(self, file_index: int) -> None:
        """Forget what one input file staged (it failed as a whole)."""
        for part in self.dir.glob(f"staged-{file_index:06d}-*.parquet"):
            part.unlink()
        self.con.execute("delete from staged_quarantine where file_index = ?", [file_index])

    def finish(self, now: datetime) -> tuple[list[Output], dict[int, int], dict[int, int]]:
        """Deduplicate and write the batch; return outputs and per-file staged and written counts."""
        outputs: list[Output] = []
        staged: dict[int, int] = {}
        dropped: dict[int, int] = {}
        if any(self.dir.glob("staged-*.parquet")):
            self.con.execute(f"create view staged_raw as select * from read_parquet('{self.dir}/staged-*.parquet')")
            reconcile_staged(self.con, committed_files(self.lake, "events"))
            staged = self._count("select file_index, count(*) from staged group by all")
            dropped = self._find_duplicates()
            outputs = self._write_events()
        if self._scalar("select count(*) from staged_quarantine"):
            outputs.append(self._write_quarantine(now))
        written = {i: n - dropped.get(i, 0) for i, n in staged.items()}
        return outputs, staged, written

    def close(self) -> None:
        """Release the staging database and its files."""
        self.con.close()
        shutil.rmtree(self.dir.parent, ignore_errors=True)

    def _count(self, sql: str) -> dict[int, int]:
        return {int(i): int(n) for i, n in self.con.execute(sql).fetchall()}

    def _scalar(self, sql: str, params: list | None = None) -> Any:
        return self.con.execute(sql, params or []).fetchall()[0][0]

    def _find_duplicates(self) -> dict[int, int]:
        """Mark every staged event whose id is already in the lake or appeared earlier in this batch."""
        dates = [r[0] for r in self.con.execute("select distinct ts::date from staged order by 1").fetchall()]
        # An event's ts fixes its partition, so copies of it can only live in the same date folder.
        existing = [f for f in committed_files(self.lake, "events") if any(f"/date={d}/" in f for d in dates)]
        key = "source_format, agent_id, session_id, event_id"
        lake_ids = f"read_parquet({sql_list(existing)})" if existing else f"(select {key} from staged limit 0)"
        self.con.execute(f"create view lake_ids as select {key} from {lake_ids}")
        self.con.execute(DUPLICATES_SQL)
        return self._count("select file_index, count(*) from dropped group by all")

    def _write_events(self) -> list[Output]:
        """Stream the batch sorted by (date, agent, session, seq) into one zstd file per date."""
        columns = ", ".join(EVENT_COLUMNS)
        relation = self.con.sql(
            f"select {columns}, ts::date as day from staged "
            "anti join dropped using (stage_row) "
            "order by day, agent_id, session_id, seq, ts, event_id"
        )
        outputs: list[Output] = []
        writer: _PartitionWriter | None = None
        with relation.to_arrow_reader(batch_size=ROW_GROUP_ROWS) as reader:
            for batch in reader:
                for day, piece in _split_by_day(pa.Table.from_batches([batch])):
                    if writer is None or writer.day != day:
                        if writer is not None:
                            outputs.append(publish_output(self.lake, writer.close(), "events", writer.rel))
                        writer = _PartitionWriter(self.dir, self.batch_id, day)
                    writer.write(piece)
        if writer is not None:
            outputs.append(publish_output(self.lake, writer.close(), "events", writer.rel))
        return outputs

    def _write_quarantine(self, now: datetime) -> Output:
        relation = self.con.sql(
            "select ? as batch_id, * exclude (file_index), ? as quarantined_at from staged_quarantine "
            "order by file_index, line_no",
            params=[self.batch_id, now],
        )
        tmp = self.dir / "quarantine.parquet"
        with (
            relation.to_arrow_reader(batch_size=ROW_GROUP_ROWS) as reader,
            pq.ParquetWriter(tmp, QUARANTINE_SCHEMA, compression="zstd") as writer,
        ):
            for batch in reader:
                writer.write_table(pa.Table.from_batches([batch]).cast(QUARANTINE_SCHEMA))
        return publish_output(self.lake, tmp, "quarantine", f"_quarantine/part-{self.batch_id}.parquet")


def publish_output(lake: Path, tmp: Path, table: str, rel: str) -> Output:
    """fsync a finished Parquet file, record its hash and rename it into the lake (uncommitted until
    the manifest lists it)."""
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    rows = pq.ParquetFile(tmp).metadata.num_rows
    output = Output(table, rel, rows, tmp.stat().st_size, sha256_file(tmp))
    publish(tmp, lake / rel)
    return output
