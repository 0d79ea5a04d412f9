"""Staging for one ingest batch: decoded events collect in a DuckDB file in the lake writer's scratch
folder, then are deduplicated, sorted and written as Parquet that the writer publishes; they become
visible only when the manifest commits them.

DuckDB spills to disk past its memory limit, so a batch of any size stays in bounded memory.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from agentwatch.ingest.reconcile import reconcile_staged
from agentwatch.lake import LakeWriter, Output
from agentwatch.lake.connection import connect_duckdb
from agentwatch.lake.layout import EVENTS, QUARANTINE, table_folder
from agentwatch.lake.sql import quote_literal, sql_list
from agentwatch.schema import EVENT_COLUMNS, EVENT_SCHEMA, QUARANTINE_SCHEMA

ROW_GROUP_ROWS = 122_880
# Low-cardinality columns gain from dictionaries; free text only pays for them.
DICTIONARY_COLUMNS = ("agent_id", "session_id", "parent_session_id", "event_type", "actor", "model", "tool_name",
                      "status", "source_format", "source_file")
# Min/max statistics serve pruning on these; on free text they would only copy log text into the footer.
STATISTICS_COLUMNS = ("ts", "agent_id", "session_id", "seq", "event_type", "tool_name")


DUPLICATES_SQL = (Path(__file__).parent / "duplicates.sql").read_text()


class _PartitionWriter:
    """Writes one date partition's rows, in arrival (sorted) order, to a temporary zstd file."""

    def __init__(self, folder: Path, batch_id: str, day: Any):
        self.day = day
        self.rel = f"{table_folder(EVENTS)}/date={day}/part-{batch_id}.parquet"
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


class Stage:
    """Collects one batch's events and quarantine rows, then writes them out."""

    def __init__(self, writer: LakeWriter, batch_id: str, memory_limit: str = "1GB"):
        self.writer = writer
        self.batch_id = batch_id
        self.dir = writer.tmp_dir / "stage"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.con = connect_duckdb(str(self.dir / "stage.duckdb"), memory_limit=memory_limit,
                                  spill_dir=self.dir / "spill")
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

    def finish(self, now: datetime) -> tuple[dict[int, int], dict[int, int]]:
        """Deduplicate and publish the batch's files through the writer; return per-file staged and
        written counts."""
        staged: dict[int, int] = {}
        dropped: dict[int, int] = {}
        if any(self.dir.glob("staged-*.parquet")):
            staged_files = quote_literal(str(self.dir / "staged-*.parquet"))
            self.con.execute(f"create view staged_raw as select * from read_parquet({staged_files})")
            reconcile_staged(self.con, self.writer.lake.table_files(EVENTS))
            staged = self._count("select file_index, count(*) from staged group by all")
            dropped = self._find_duplicates()
            self._write_events()
        if self._scalar("select count(*) from staged_quarantine"):
            self._write_quarantine(now)
        written = {i: n - dropped.get(i, 0) for i, n in staged.items()}
        return staged, written

    def close(self) -> None:
        """Release the staging database and its files."""
        self.con.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _count(self, sql: str) -> dict[int, int]:
        return {int(i): int(n) for i, n in self.con.execute(sql).fetchall()}

    def _scalar(self, sql: str, params: list | None = None) -> Any:
        return self.con.execute(sql, params or []).fetchall()[0][0]

    def _find_duplicates(self) -> dict[int, int]:
        """Mark every staged event whose id is already in the lake or appeared earlier in this batch."""
        dates = [r[0] for r in self.con.execute("select distinct ts::date from staged order by 1").fetchall()]
        # An event's ts fixes its partition, so copies of it can only live in the same date folder.
        existing = [f for f in self.writer.lake.table_files(EVENTS) if any(f"/date={d}/" in f for d in dates)]
        key = "source_format, agent_id, session_id, event_id"
        lake_ids = f"read_parquet({sql_list(existing)})" if existing else f"(select {key} from staged limit 0)"
        self.con.execute(f"create view lake_ids as select {key} from {lake_ids}")
        self.con.execute(DUPLICATES_SQL)
        return self._count("select file_index, count(*) from dropped group by all")

    def _write_events(self) -> None:
        """Stream the batch sorted by (date, agent, session, seq) into one zstd file per date."""
        columns = ", ".join(EVENT_COLUMNS)
        relation = self.con.sql(
            f"select {columns}, ts::date as day from staged "
            "anti join dropped using (stage_row) "
            "order by day, agent_id, session_id, seq, ts, event_id"
        )
        writer: _PartitionWriter | None = None
        with relation.to_arrow_reader(batch_size=ROW_GROUP_ROWS) as reader:
            for batch in reader:
                for day, piece in _split_by_day(pa.Table.from_batches([batch])):
                    if writer is None or writer.day != day:
                        if writer is not None:
                            self.writer.publish(writer.close(), EVENTS, writer.rel)
                        writer = _PartitionWriter(self.dir, self.batch_id, day)
                    writer.write(piece)
        if writer is not None:
            self.writer.publish(writer.close(), EVENTS, writer.rel)

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
        return self.writer.publish(tmp, QUARANTINE, f"{table_folder(QUARANTINE)}/part-{self.batch_id}.parquet")

