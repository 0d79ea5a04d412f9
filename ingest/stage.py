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
import pyarrow as pa
import pyarrow.parquet as pq
from agentwatch.ingest.manifest import committed_files, publish, read_entries, sha256_file
from agentwatch.ingest.schema import EVENT_COLUMNS, QUARANTINE_SCHEMA, SCHEMA_VERSION

from agentwatch.errors import LakeError

TMP_DIR = "_tmp"
ROW_GROUP_ROWS = 122_880


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
    for table_dir in ("events", "_quarantine"):
        for path in (lake / table_dir).rglob("part-*.parquet") if (lake / table_dir).is_dir() else ():
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
        self.con.execute(
            "create table staged_quarantine (file_index integer, source_file varchar, source_format varchar, "
            "source_offset bigint, line_no bigint, reason varchar, raw blob, raw_truncated boolean, "
            "redactions integer)"
        )
        self._has_events = False

    def add_events(self, file_index: int, table: pa.Table) -> None:
        """Stage decoded (already masked) events of one input file."""
        if not len(table):
            return
        self.con.register("chunk", table)
        if self._has_events:
            self.con.execute("insert into staged select *, ? as file_index from chunk", [file_index])
        else:
            self.con.execute("create table staged as select *, ?::integer as file_index from chunk", [file_index])
            self._has_events = True
        self.con.unregister("chunk")

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
        if self._has_events:
            self.con.execute("delete from staged where file_index = ?", [file_index])
        self.con.execute("delete from staged_quarantine where file_index = ?", [file_index])

    def finish(self, now: datetime) -> tuple[list[Output], dict[int, int], dict[int, int]]:
        """Deduplicate and write the batch; return outputs and per-file staged and written counts."""
        outputs = self._write_events() if self._has_events else []
        staged = self._count("staged")
        written = self._count("fresh")
        if self._scalar("select count(*) from staged_quarantine"):
            outputs.append(self._write_quarantine(now))
        return outputs, staged, written

    def close(self) -> None:
        """Release the staging database and its files."""
        self.con.close()
        shutil.rmtree(self.dir.parent, ignore_errors=True)

    def _count(self, table: str) -> dict[int, int]:
        if not self._has_events:
            return {}
        rows = self.con.execute(f"select file_index, count(*) from {table} group by all").fetchall()
        return {int(i): int(n) for i, n in rows}

    def _write_events(self) -> list[Output]:
        dates = [r[0] for r in self.con.execute("select distinct ts::date from staged order by 1").fetchall()]
        # An event's ts fixes its partition, so duplicates of it can only live in the same date folder.
        existing = [f for f in committed_files(self.lake, "events") if any(f"/date={d}/" in f for d in dates)]
        source = f"read_parquet({sql_list(existing)})" if existing else "(select null::varchar as event_id limit 0)"
        self.con.execute(f"create table existing as select event_id from {source}")
        self.con.execute(
            "create table fresh as "
            "select * from staged anti join existing using (event_id) "
            "qualify row_number() over (partition by event_id order by file_index, source_offset) = 1"
        )
        return [self._write_partition(day) for day in dates if self._partition_rows(day)]

    def _partition_rows(self, day: Any) -> int:
        return self._scalar("select count(*) from fresh where ts::date = ?", [day])

    def _scalar(self, sql: str, params: list | None = None) -> Any:
        return self.con.execute(sql, params or []).fetchall()[0][0]

    def _write_partition(self, day: Any) -> Output:
        rel = f"events/date={day}/part-{self.batch_id}.parquet"
        tmp = self.dir / f"events-{day}.parquet"
        columns = ", ".join(EVENT_COLUMNS)
        self.con.execute(
            f"copy (select {columns} from fresh where ts::date = $day "
            f"order by agent_id, session_id, seq, ts, event_id) to '{tmp}' "
            f"(format parquet, compression zstd, row_group_size {ROW_GROUP_ROWS}, "
            f"kv_metadata {{agentwatch_schema_version: '{SCHEMA_VERSION}'}})",
            {"day": day},
        )
        return self._publish(tmp, "events", rel)

    def _write_quarantine(self, now: datetime) -> Output:
        table = self.con.sql(
            "select ? as batch_id, * exclude (file_index), ? as quarantined_at from staged_quarantine "
            "order by file_index, line_no",
            params=[self.batch_id, now],
        ).to_arrow_table()
        tmp = self.dir / "quarantine.parquet"
        pq.write_table(table.cast(QUARANTINE_SCHEMA), tmp, compression="zstd")
        return self._publish(tmp, "quarantine", f"_quarantine/part-{self.batch_id}.parquet")

    def _publish(self, tmp: Path, table: str, rel: str) -> Output:
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        rows = pq.ParquetFile(tmp).metadata.num_rows
        output = Output(table, rel, rows, tmp.stat().st_size, sha256_file(tmp))
        publish(tmp, self.lake / rel)
        return output
