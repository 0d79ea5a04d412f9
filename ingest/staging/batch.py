"""Staging for one ingest batch: decoded events collect in memory, or past a budget as Parquet parts in
the lake writer's scratch folder, then are deduplicated, sorted and written as Parquet that the writer
publishes; they become visible only when the manifest commits them.

A batch whose events fit in half the memory limit is held in memory as Arrow tables and sorted there
(polars orders the sort keys, Arrow takes the rows one row group at a time): no staging write, no
re-read. A larger batch goes to disk, and DuckDB, which spills past its memory limit, deduplicates and
sorts it, so a batch of any size stays in bounded memory. Both give the same files.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from agentwatch.ingest.staging.points import PointStage
from agentwatch.ingest.staging.reconcile import reconcile_staged
from agentwatch.lake import (
    EVENTS,
    QUARANTINE,
    LakeWriter,
    Output,
    connect_duckdb,
    quote_literal,
    sql_list,
    table_folder,
)
from agentwatch.schema import EVENT_COLUMNS, EVENT_SCHEMA, QUARANTINE_SCHEMA

ROW_GROUP_ROWS = 122_880
# Low-cardinality columns gain from dictionaries; free text only pays for them.
DICTIONARY_COLUMNS = ("agent_id", "session_id", "parent_session_id", "event_type", "actor", "model", "tool_name",
                      "status", "source_format", "source_file")
# Min/max statistics serve pruning on these; on free text they would only copy log text into the footer.
STATISTICS_COLUMNS = ("ts", "agent_id", "session_id", "seq", "event_type", "tool_name")


DUPLICATES_SQL = (Path(__file__).parent / "sql" / "duplicates.sql").read_text()
# The order of the lake's event files; `stage_row` last makes ties (none expected) deterministic.
SORT_KEYS = ("day", "agent_id", "session_id", "seq", "ts", "event_id", "stage_row")
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b", re.IGNORECASE)


def memory_bytes(limit: str) -> int:
    """A DuckDB memory size (`512MB`, `2GB`, `1.5GiB`) in bytes; 0 when it cannot be read."""
    match = _SIZE.fullmatch(limit.strip())
    if not match:
        return 0
    number, unit, binary = match.groups()
    return int(float(number) * (1024 if binary else 1000) ** " kmgt".index(unit.lower() or " "))


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


class StagedBatch:
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
        # Events held in memory, with their file index, while they fit in the budget.
        self._held: list[tuple[int, pa.Table]] = []
        self._held_bytes = 0
        self._hold_budget = memory_bytes(memory_limit) // 2
        self.points = PointStage()
        self.point_counts: tuple[dict[int, int], dict[int, int]] = ({}, {})  # staged, written per file

    def add_events(self, file_index: int, table: pa.Table) -> None:
        """Stage decoded (already masked) events of one input file: held in memory while the batch fits
        in the budget, else as plain Parquet parts."""
        if not len(table):
            return
        rows = np.arange(self._rows, self._rows + len(table), dtype=np.int64)
        self._rows += len(table)
        table = table.append_column("file_index", pa.array(np.full(len(table), file_index, np.int32)))
        table = table.append_column("stage_row", pa.array(rows))
        if not self._parts and self._held_bytes + table.nbytes <= self._hold_budget:
            self._held.append((file_index, table))
            self._held_bytes += table.nbytes
            return
        self._spill()
        self._write_part(file_index, table)

    def _write_part(self, file_index: int, table: pa.Table) -> None:
        pq.write_table(table, self.dir / f"staged-{file_index:06d}-{self._parts:06d}.parquet", compression="none")
        self._parts += 1

    def _spill(self) -> None:
        """Write the events held so far as parts (the batch outgrew the budget)."""
        for file_index, table in self._held:
            self._write_part(file_index, table)
        self._held, self._held_bytes = [], 0

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

    def add_points(self, file_index: int, table: pa.Table) -> None:
        """Stage metric points (already masked) of one input file."""
        self.points.add(file_index, table)

    def drop_file(self, file_index: int) -> None:
        """Forget what one input file staged (it failed as a whole)."""
        self.points.drop(file_index)
        for part in self.dir.glob(f"staged-{file_index:06d}-*.parquet"):
            part.unlink()
        self._held = [(i, table) for i, table in self._held if i != file_index]
        self._held_bytes = sum(table.nbytes for _, table in self._held)
        self.con.execute("delete from staged_quarantine where file_index = ?", [file_index])

    def finish(self, now: datetime) -> tuple[dict[int, int], dict[int, int]]:
        """Deduplicate and publish the batch's files through the writer; return per-file staged and
        written counts."""
        staged: dict[int, int] = {}
        dropped: dict[int, int] = {}
        held = pa.concat_tables([table for _, table in self._held]) if self._held else None
        on_disk = False
        if held is not None:
            self.con.register("staged_held", held)
            self.con.execute("create view staged_raw as select * from staged_held")
        elif on_disk := any(self.dir.glob("staged-*.parquet")):
            staged_files = quote_literal(str(self.dir / "staged-*.parquet"))
            self.con.execute(f"create view staged_raw as select * from read_parquet({staged_files})")
        if held is not None or on_disk:
            reconcile_staged(self.con, self.writer.lake.table_files(EVENTS))
            staged = self._count("select file_index, count(*) from staged group by all")
            dropped = self._find_duplicates()
            if held is not None and self._as_staged():
                self._write_held(held)
            else:
                self._write_events()
        if self._scalar("select count(*) from staged_quarantine"):
            self._write_quarantine(now)
        self.point_counts = self.points.finish(self.writer, self.con, self.dir, self.batch_id)
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

    def _as_staged(self) -> bool:
        """True when reconciling changed no event: `staged` is then `staged_raw` as it stands."""
        return not self._scalar("select (select count(*) from identity_fixes) + (select count(*) from tool_name_fixes)")

    def _write_held(self, held: pa.Table) -> None:
        """The held batch, sorted as `_write_events` sorts it: polars orders the keys of the rows kept, then
        Arrow takes the rows one row group at a time (the batch is never copied whole)."""
        dropped = self.con.sql("select stage_row from dropped").arrow().read_all().column(0)
        keys = pl.from_arrow(held.select(["ts", "agent_id", "session_id", "seq", "event_id", "stage_row"]),
                             rechunk=False)
        position = pl.int_range(pl.len(), dtype=pl.Int64)
        order = (
            keys.with_columns(pl.col("ts").dt.date().alias("day"), position.alias("position"))
            .filter(~pl.col("stage_row").is_in(pl.from_arrow(dropped).implode()))
            .sort(list(SORT_KEYS), nulls_last=True)
            .get_column("position")
            .to_arrow()
        )
        self._write_sorted(held.take(order.slice(i, ROW_GROUP_ROWS)) for i in range(0, len(order), ROW_GROUP_ROWS))

    def _write_events(self) -> None:
        """Stream the batch sorted by (date, agent, session, seq) into one zstd file per date."""
        columns = ", ".join(EVENT_COLUMNS)
        relation = self.con.sql(
            f"select {columns}, ts::date as day from staged "
            f"anti join dropped using (stage_row) order by {', '.join(SORT_KEYS)}"
        )
        with relation.to_arrow_reader(batch_size=ROW_GROUP_ROWS) as reader:
            self._write_sorted(pa.Table.from_batches([batch]) for batch in reader)

    def _write_sorted(self, tables: Iterable[pa.Table]) -> None:
        """Sorted row groups (by day first) into one zstd file per day, each published."""
        writer: _PartitionWriter | None = None
        for table in tables:
            if "day" not in table.column_names:
                table = table.append_column("day", pc.cast(table.column("ts"), pa.date32()))
            for day, piece in _split_by_day(table):
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

