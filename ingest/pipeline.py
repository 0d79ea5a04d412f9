"""Ingest input files into the lake as one committed batch.

Per input file the counts reconcile: records read = events written + duplicates + quarantined
(+ skipped, for formats with records that carry no event). Multi-event formats (OTLP) count events
decoded instead of records on the right-hand side; the manifest keeps both.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb
import polars as pl
import pyarrow as pa

from agentwatch import __version__
from agentwatch.errors import InputError
from agentwatch.ingest.decode import DecodeContext, decode_batch
from agentwatch.ingest.formats import Format, detect_format, get_format
from agentwatch.ingest.formats.otlp.fast.files import with_prepared_lines
from agentwatch.ingest.formats.otlp.fast.traces import PreparedLines
from agentwatch.ingest.reader import MAX_LINE_BYTES, LineBatch, OversizeLine, iter_line_batches, open_input
from agentwatch.ingest.records import FileHints
from agentwatch.ingest.sanitize.sanitizer import Sanitizer
from agentwatch.ingest.staging.batch import StagedBatch
from agentwatch.lake import Lake, LakeWriter, ingested_hashes, sha256_file

# What one record of an OTLP format carries: its reports count these beside requests and events.
ITEM_UNITS = {"otlp_json": "spans", "openinference": "spans", "otlp_logs": "log records",
              "otlp_metrics": "data points"}
INPUT_SUFFIXES = (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz", ".json.gz", ".log", ".log.gz")
Progress = Callable[[int], None]  # called with bytes read


class Sink(Protocol):
    """Where a file's decoded events and quarantine rows go: the batch's StagedBatch, or a worker's parts."""

    con: duckdb.DuckDBPyConnection

    def add_events(self, file_index: int, table: pa.Table) -> None: ...

    def add_quarantine(self, file_index: int, table: pa.Table) -> None: ...

    def add_points(self, file_index: int, table: pa.Table) -> None: ...

    def drop_file(self, file_index: int) -> None: ...


@dataclass
class FileReport:
    """What happened to one input file."""

    path: str
    sha256: str
    format: str = ""
    status: str = "ingested"  # ingested | skipped_already_ingested | skipped_duplicate_content | failed
    bytes: int = 0
    records_read: int = 0
    records_decoded: int = 0
    blank_lines: int = 0
    events_decoded: int = 0
    items_decoded: int = 0  # OTLP formats: spans or log records (ITEM_UNITS) that became events
    events_written: int = 0
    duplicates: int = 0
    points_written: int = 0  # metric data points (otlp_metrics): items_decoded = written + point duplicates
    point_duplicates: int = 0
    quarantined: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    redactions: int = 0  # secrets masked, in events and quarantined records alike
    error: str = ""

    def reconciles(self) -> bool:
        """records read = decoded + quarantined + skipped, events decoded = written + duplicates, and metric
        data points decoded = written + duplicates."""
        if self.status != "ingested":
            return True
        skipped = sum(self.skipped.values())
        points = self.items_decoded == self.points_written + self.point_duplicates if self.format == "otlp_metrics" \
            else True
        return (
            self.records_read == self.records_decoded + self.quarantined + skipped
            and self.events_decoded == self.events_written + self.duplicates
            and points
        )


@dataclass
class IngestReport:
    """The batch: its files, the manifest entry it committed (if any), and errors by file."""

    files: list[FileReport]
    entry: dict[str, Any] | None

    @property
    def failed(self) -> list[FileReport]:
        """Files that could not be read as a whole."""
        return [f for f in self.files if f.status == "failed"]


def expand_inputs(paths: Iterable[Path]) -> list[Path]:
    """Files named, and the JSON-lines files found (recursively, sorted) under folders named."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(INPUT_SUFFIXES)))
        elif path.exists():
            found.append(path)
        else:
            raise InputError("no such file or folder", str(path))
    return found


def ingest_paths(
    lake: Lake | Path,
    paths: Iterable[Path],
    *,
    fmt: str = "auto",
    now: datetime | None = None,
    progress: Progress | None = None,
    sanitizer: Sanitizer | None = None,
    memory_limit: str = "1GB",
    reingest: bool = False,
) -> IngestReport:
    """Ingest files into the lake as one batch; re-ingesting the same content adds nothing.

    A file already ingested is skipped, unless nothing of it was stored (every record quarantined,
    e.g. read under the wrong `fmt`) and it is now read as another format, or `reingest` is set
    (events already in the lake still deduplicate)."""
    now = now or datetime.now(UTC)
    files = expand_inputs(paths)
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    with lake.writer() as writer:
        sanitizer = sanitizer or Sanitizer.for_lake(lake.root)
        known = ingested_hashes(writer.entries)
        # A secret in a file's name must not reach `source_file`, quarantine or the manifest either.
        reports = [FileReport(sanitizer.mask_path(str(p)), hash_input(p), bytes=p.stat().st_size) for p in files]
        batch_id = batch_id_for(writer.seq, reports)
        stage = StagedBatch(writer, batch_id, memory_limit)
        try:
            seen: set[str] = set()
            chosen: dict[int, Format] = {}
            for index, (path, report) in enumerate(zip(files, reports, strict=True)):
                picked = choose_format(path, fmt, report)
                if picked is not None and not skip_known(report, {} if reingest else known, seen):
                    chosen[index] = picked
            items = [(i, files[i], reports[i].path, f.name, reports[i].bytes) for i, f in chosen.items()]
            for index, bulk in with_prepared_lines(stage.con, items, now, sanitizer.mask_events):
                stage_file(files[index], index, reports[index], stage, chosen[index], now, sanitizer, progress, bulk)
            entry = commit_stage(writer, stage, batch_id, reports, now)
        finally:
            stage.close()
    return IngestReport(reports, entry)


def hash_input(path: Path) -> str:
    """The file's sha256; an unreadable file is an InputError naming it."""
    try:
        return sha256_file(path)
    except OSError as exc:  # before anything is staged: the run stops, nothing half-written exists
        raise InputError(f"cannot read input: {exc.strerror or exc}", str(path)) from exc


def choose_format(path: Path, fmt: str, report: FileReport) -> Format | None:
    """The file's format (detected from its first record for `auto`); None when it cannot be read."""
    try:
        chosen = get_format(fmt) if fmt != "auto" else detect_format(_first_record(path))
    except InputError as exc:
        report.status, report.error = "failed", str(exc)
        return None
    report.format = chosen.name
    return chosen


def skip_known(report: FileReport, known: dict[str, dict[str, bool]], seen: set[str]) -> bool:
    """Mark a file already stored, or a repeat of content earlier in the batch; True when skipped."""
    formats = known.get(report.sha256, {})
    if any(formats.values()) or report.format in formats:  # stored, or this format already tried
        report.status = "skipped_already_ingested"
    elif report.sha256 in seen:
        report.status = "skipped_duplicate_content"
    seen.add(report.sha256)
    return report.status != "ingested"


def batch_id_for(seq: int, reports: list[FileReport]) -> str:
    """The next batch's id: its manifest position and a digest of its inputs."""
    digest = hashlib.sha256("\n".join(r.sha256 for r in reports).encode()).hexdigest()[:12]
    return f"{seq:08d}-{digest}"


def stage_file(
    path: Path,
    index: int,
    report: FileReport,
    stage: Sink,
    chosen: Format,
    now: datetime,
    sanitizer: Sanitizer,
    progress: Progress | None,
    bulk: PreparedLines | None = None,
) -> None:
    """Decode, mask and stage one file's lines; a file unreadable as a whole is marked failed."""
    try:
        hints = FileHints(_first_record(path), path.stat().st_mtime_ns)
        ctx = DecodeContext(chosen, report.path, now, stage.con, hints, bulk)
        for batch in iter_line_batches(path):
            _stage_batch(batch, ctx, index, report, stage, sanitizer)
            if progress and isinstance(batch, LineBatch):
                progress(int(batch.offsets[-1]) - int(batch.offsets[0]) if len(batch.offsets) else 0)
    except InputError as exc:
        stage.drop_file(index)
        report.status, report.error = "failed", sanitizer.mask_path(str(exc))


def _stage_batch(
    batch: LineBatch | OversizeLine, ctx: DecodeContext, index: int, report: FileReport, stage: Sink,
    sanitizer: Sanitizer,
) -> None:
    if isinstance(batch, OversizeLine):
        report.records_read += 1
        report.quarantined += 1
        _quarantine(_oversize_rows(batch), ctx, index, report, stage, sanitizer)
        return
    decoded = decode_batch(batch, ctx)
    if decoded.points:
        points = sanitizer.mask_points(decoded.points)
        report.items_decoded += len(points)
        report.redactions += int(pa.compute.sum(points.column("redactions")).as_py() or 0)
        stage.add_points(index, points)
    events = sanitizer.mask_events(decoded.event_table())
    if decoded.masked:
        events = pa.concat_tables([*decoded.masked, events])
    report.records_read += decoded.records
    report.records_decoded += decoded.decoded_records
    report.blank_lines += decoded.blank
    report.events_decoded += len(events)
    if ctx.fmt.name in ITEM_UNITS and ctx.fmt.name != "otlp_metrics":
        report.items_decoded += count_items(events)
    report.quarantined += len(decoded.quarantine)
    report.redactions += int(pa.compute.sum(events.column("redactions")).as_py() or 0)
    for reason, count in decoded.skipped.items():
        report.skipped[reason] = report.skipped.get(reason, 0) + count
    stage.add_events(index, events)
    if decoded.quarantine:
        _quarantine(decoded.quarantine, ctx, index, report, stage, sanitizer)


def _quarantine(rows: list[dict[str, Any]], ctx: DecodeContext, index: int, report: FileReport, stage: Sink,
                sanitizer: Sanitizer) -> None:
    """Stage quarantined records, masked; the secrets masked in them count like those in events."""
    table = sanitizer.quarantine_table(rows, ctx.source_file, ctx.fmt.name)
    report.redactions += int(pa.compute.sum(table.column("redactions")).as_py() or 0)
    stage.add_quarantine(index, table)


def count_items(events: pa.Table) -> int:
    """The spans or log records behind OTLP events: an event id is "<span or log record>:<n>", n the
    event's index within it, so the distinct ids without their n, per record (source offset)."""
    if not len(events):
        return 0
    frame = pl.from_arrow(events.select(["source_offset", "event_id"]))
    return frame.select(pl.struct("source_offset", pl.col("event_id").str.replace(r":\d+$", "")).n_unique()).item()


def _oversize_rows(line: OversizeLine) -> list[dict[str, Any]]:
    reason = f"line of {line.length} bytes exceeds the limit; first {len(line.head)} bytes kept, sha256 {line.sha256}"
    return [{"line_no": line.line_no, "source_offset": line.offset, "reason": reason, "raw": line.head,
             "raw_truncated": True}]


def _first_record(path: Path) -> bytes:
    with open_input(path) as stream:
        try:
            while line := stream.readline(MAX_LINE_BYTES):
                if line.strip():
                    return line
        except (OSError, EOFError) as exc:
            raise InputError(f"cannot read input (corrupt or truncated?): {exc}", str(path)) from exc
    return b""


def commit_stage(writer: LakeWriter, stage: StagedBatch, batch_id: str, reports: list[FileReport],
                 now: datetime) -> dict | None:
    """Write the staged batch out and commit its manifest entry (None when no file was ingested)."""
    staged, written = stage.finish(now)
    points_staged, points_written = stage.point_counts
    for index, report in enumerate(reports):
        if report.status == "ingested":
            report.events_written = written.get(index, 0)
            report.duplicates = staged.get(index, 0) - report.events_written
            report.points_written = points_written.get(index, 0)
            report.point_duplicates = points_staged.get(index, 0) - report.points_written
    if not any(r.status == "ingested" for r in reports):
        return None
    return writer.commit("ingest", extra={
        "batch_id": batch_id,
        "committed_at": now.isoformat(),
        "agentwatch_version": __version__,
        "inputs": [_input_record(r) for r in reports if r.status != "skipped_already_ingested"],
    })


def _input_record(report: FileReport) -> dict[str, Any]:
    record = dict(report.__dict__)
    record["reconciled"] = report.reconciles()
    return record


def summarize(report: IngestReport) -> Counter:
    """Totals over the batch's files, for the CLI summary."""
    total: Counter = Counter()
    for f in report.files:
        total["files"] += 1
        total[f.status] += 1
        for key in ("records_read", "records_decoded", "events_decoded", "items_decoded", "events_written",
                    "duplicates", "points_written", "point_duplicates", "quarantined", "blank_lines", "redactions"):
            total[key] += getattr(f, key)
        total["skipped_records"] += sum(f.skipped.values())
    return total
