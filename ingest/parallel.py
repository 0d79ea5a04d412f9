"""Ingest split for a cluster: workers decode and mask files in parallel, one writer commits.

`decode_file` runs anywhere that sees the lake's folder (a Dask worker): it decodes one input file
and writes its masked events and quarantine rows as Parquet parts under `<lake>/_decode/`, touching
nothing the lake's readers see. `commit_decoded` then takes the lake's single-writer lock and stages
those parts in file order, so the batch, its deduplication and its manifest entry are exactly what
`ingest_paths` would have written for the same files.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from agentwatch.errors import InputError
from agentwatch.ingest.formats.otlp.fast.files import with_prepared_lines
from agentwatch.ingest.pipeline import (
    FileReport,
    IngestReport,
    batch_id_for,
    choose_format,
    commit_stage,
    hash_input,
    skip_known,
    stage_file,
)
from agentwatch.ingest.sanitize.sanitizer import Sanitizer
from agentwatch.ingest.staging.batch import StagedBatch
from agentwatch.lake import DECODE_DIR, Lake, ingested_hashes, local_folder


@dataclass(frozen=True)
class DecodedFile:
    """One input file decoded by a worker: its report so far and the folder of its parts."""

    path: Path
    report: FileReport
    parts: Path
    error: str = ""  # the file could not be read at all (its hash failed): left out of the batch


class PartsSink:
    """A StagedBatch stand-in for one file: each staged table becomes a numbered Parquet part."""

    def __init__(self, folder: Path, memory_limit: str):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect()
        self.con.execute(f"set memory_limit = '{memory_limit}'")
        self.con.execute("set enable_progress_bar = false")  # a worker's stderr is no terminal
        self._parts = 0

    def add_events(self, file_index: int, table: pa.Table) -> None:
        """Keep one batch of masked events."""
        self._write("events", table)

    def add_quarantine(self, file_index: int, table: pa.Table) -> None:
        """Keep one batch of masked quarantine rows."""
        self._write("quarantine", table)

    def add_points(self, file_index: int, table: pa.Table) -> None:
        """Keep one batch of masked metric points."""
        self._write("points", table)

    def drop_file(self, file_index: int) -> None:
        """Forget every part (the file failed as a whole)."""
        for part in self.folder.glob("*.parquet"):
            part.unlink()

    def _write(self, kind: str, table: pa.Table) -> None:
        if len(table):
            pq.write_table(table, self.folder / f"{self._parts:06d}-{kind}.parquet", compression="none")
            self._parts += 1


def decode_scratch(lake: Path, run_key: str) -> Path:
    """The folder one run's decoded parts go to (one sub-folder per input file)."""
    return local_folder(lake) / DECODE_DIR / run_key


def decode_file(lake: Path, path: Path, parts: Path, now: datetime, memory_limit: str = "1GB") -> DecodedFile:
    """Decode and mask one file into parts under `parts` (no lake lock: the commit takes it)."""
    sanitizer = Sanitizer.for_lake(local_folder(lake))
    try:
        report = FileReport(sanitizer.mask_path(str(path)), hash_input(path), bytes=path.stat().st_size)
    except InputError as exc:
        return DecodedFile(path, FileReport(sanitizer.mask_path(str(path)), ""), parts, exc.message)
    chosen = choose_format(path, "auto", report)
    if chosen is None or _stored(lake, report):
        return DecodedFile(path, report, parts)
    sink = PartsSink(parts, memory_limit)
    try:
        items = [(0, path, report.path, chosen.name, report.bytes)]
        for _, bulk in with_prepared_lines(sink.con, items, now, sanitizer.mask_events):
            stage_file(path, 0, report, sink, chosen, now, sanitizer, None, bulk)
    finally:
        sink.con.close()
    return DecodedFile(path, report, parts)


def commit_decoded(lake: Path, decoded: list[DecodedFile], now: datetime, memory_limit: str = "1GB") -> IngestReport:
    """Stage the decoded files in order under the writer lock and commit them as one batch."""
    files = [d for d in decoded if not d.error]
    with Lake(lake).writer() as writer:
        known, seen = ingested_hashes(writer.entries), set()
        reports = [_undecoded(d.report) for d in files]
        stage = StagedBatch(writer, batch_id_for(writer.seq, reports), memory_limit)
        try:
            for index, (item, report) in enumerate(zip(files, reports, strict=True)):
                if report.status == "ingested" and not skip_known(report, known, seen):
                    reports[index] = item.report
                    _stage_parts(stage, index, item.parts)
            entry = commit_stage(writer, stage, stage.batch_id, reports, now)
        finally:
            stage.close()
    return IngestReport(reports, entry)


def remove_scratch(scratch: Path) -> None:
    """Delete a batch's parts once its entry is committed."""
    shutil.rmtree(scratch, ignore_errors=True)


def _undecoded(report: FileReport) -> FileReport:
    """The report as it stood before decoding (a file the commit skips counts no records)."""
    return FileReport(report.path, report.sha256, report.format, report.status, report.bytes, error=report.error)


def _stored(lake: Path, report: FileReport) -> bool:
    """Already in the lake under this format: decoding it would be wasted (the commit skips it)."""
    formats = ingested_hashes(Lake(lake).entries()).get(report.sha256, {})
    return any(formats.values()) or report.format in formats


def _stage_parts(stage: StagedBatch, index: int, folder: Path) -> None:
    for part in sorted(folder.glob("*.parquet")):
        table = pq.read_table(part)
        if part.stem.endswith("-events"):
            stage.add_events(index, table)
        elif part.stem.endswith("-points"):
            stage.add_points(index, table)
        else:
            stage.add_quarantine(index, table)
