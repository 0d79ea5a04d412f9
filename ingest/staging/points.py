"""Staging for the `metric_points` of one ingest batch: rows held in memory (agents export a few points
a minute per session), deduplicated on `point_id` against the lake and within the batch (first seen
kept), and written as one zstd Parquet file the batch's writer publishes with its events."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from agentwatch.lake import METRIC_POINTS, LakeWriter, sql_list, table_folder
from agentwatch.schema import METRIC_POINT_SCHEMA

SORT_KEYS = ("agent_id", "session_id", "metric_name", "ts", "point_id")


class PointStage:
    """One batch's metric points, by input file."""

    def __init__(self) -> None:
        self._held: list[tuple[int, pa.Table]] = []

    def add(self, file_index: int, table: pa.Table) -> None:
        """Hold one file's (masked) rows."""
        if len(table):
            self._held.append((file_index, table.select(METRIC_POINT_SCHEMA.names).cast(METRIC_POINT_SCHEMA)))

    def drop(self, file_index: int) -> None:
        """Forget one file's rows (it failed as a whole)."""
        self._held = [(i, table) for i, table in self._held if i != file_index]

    def finish(self, writer: LakeWriter, con: duckdb.DuckDBPyConnection, folder: Path, batch_id: str
               ) -> tuple[dict[int, int], dict[int, int]]:
        """Write the new points and publish them; per-file staged and written counts."""
        if not self._held:
            return {}, {}
        indexes = np.concatenate([np.full(len(table), i, np.int32) for i, table in self._held])
        staged = pa.concat_tables([table for _, table in self._held]).append_column("file_index", pa.array(indexes))
        con.register("staged_points", staged)
        existing = writer.lake.table_files(METRIC_POINTS)
        lake_ids = f"(select point_id from read_parquet({sql_list(existing)}))" if existing else \
            "(select point_id from staged_points limit 0)"
        fresh = con.sql(
            f"select * from staged_points where point_id not in {lake_ids} "
            "qualify row_number() over (partition by point_id order by file_index) = 1 "
            f"order by {', '.join(SORT_KEYS)}"
        ).to_arrow_table()
        con.unregister("staged_points")
        counts = _by_file(staged.column("file_index")), _by_file(fresh.column("file_index"))
        if len(fresh):
            local = folder / "metric_points.parquet"
            pq.write_table(fresh.drop_columns(["file_index"]).cast(METRIC_POINT_SCHEMA), local, compression="zstd")
            writer.publish(local, METRIC_POINTS, f"{table_folder(METRIC_POINTS)}/part-{batch_id}.parquet")
        return counts


def _by_file(column: pa.ChunkedArray) -> dict[int, int]:
    values, counts = np.unique(column.to_numpy(), return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts, strict=True)}
