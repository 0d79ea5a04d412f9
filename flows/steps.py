"""The pipeline's steps as plain functions: each takes the run context (and its input) and returns a
small frozen summary. No Prefect here: the flows wrap these, and tests call them directly.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from agentwatch.detectors.metrics.parallel import (
    MetricsPlan,
    RoundPart,
    commit_rounds,
    plan_metrics,
    remove_rounds,
    rounds_scratch,
)
from agentwatch.detectors.metrics.run import MetricsRun, run_metrics
from agentwatch.errors import InputError
from agentwatch.flows.context import RunContext
from agentwatch.flows.sources import Discovery, discover_files, recorded_inputs
from agentwatch.ingest.parallel import DecodedFile, commit_decoded, decode_scratch, remove_scratch
from agentwatch.ingest.pipeline import IngestReport, ingest_paths
from agentwatch.ingest.sanitize.sanitizer import Sanitizer
from agentwatch.lake import local_folder, remember_inventory

# One ingest batch (= one manifest entry) holds at most this much input: big enough that a night of
# small files is a handful of entries, small enough that a failed batch costs little to redo.
BATCH_BYTES = 256 * 1024 * 1024
BATCH_FILES = 500


@dataclass(frozen=True)
class FileFailure:
    """A file that could not be ingested, and why (its events are not in the lake)."""

    path: str
    reason: str


@dataclass(frozen=True)
class IngestSummary:
    """What one ingest batch did."""

    files: int
    ingested: int
    already_in_lake: int
    failed: int
    records_read: int
    events_written: int
    duplicates: int
    quarantined: int
    redactions: int
    spool_files_taken: int
    batch_id: str
    failures: tuple[FileFailure, ...] = ()


def discover(ctx: RunContext, only_new: bool = False) -> Discovery:
    """The files this run ingests; `only_new` (the guard) skips files the manifest lists at the same size."""
    known = recorded_inputs(ctx.lake.entries()) if only_new else None
    return discover_files(ctx.paths, ctx.sources, ctx.spool, known=known)


def plan_batches(files: tuple[Path, ...]) -> list[tuple[Path, ...]]:
    """Files grouped in order into batches of bounded size and count."""
    batches: list[list[Path]] = []
    size = 0
    for path in files:
        length = path.stat().st_size
        if not batches or size + length > BATCH_BYTES or len(batches[-1]) >= BATCH_FILES:
            batches.append([])
            size = 0
        batches[-1].append(path)
        size += length
    return [tuple(b) for b in batches]


def ingest_batch(ctx: RunContext, files: tuple[Path, ...], spooled: tuple[Path, ...] = ()) -> IngestSummary:
    """Ingest one batch; a file that cannot be read is left out and reported, never fatal to the batch."""
    pending, unreadable = list(files), []
    while True:
        try:
            report = ingest_paths(ctx.lake_path, pending, now=ctx.now, memory_limit=ctx.memory_limit)
            break
        except InputError as exc:  # names the one file that cannot be read; the others still go in
            if exc.where is None or Path(exc.where) not in pending:
                raise
            pending.remove(Path(exc.where))
            unreadable.append(FileFailure(exc.where, exc.message))
    taken = _release_spool(report, set(spooled))
    return _summarize(report, unreadable, taken)


def prepare_decode(ctx: RunContext) -> Path:
    """A fresh folder for one batch's decoded parts; the masking key exists before workers read it."""
    Sanitizer.for_lake(local_folder(ctx.lake_path))  # created here once, never by two workers at the same time
    scratch = decode_scratch(ctx.lake_path, uuid.uuid4().hex)
    remove_scratch(scratch.parent)  # a crashed run's parts: the run lock says no other run is using them
    scratch.mkdir(parents=True)
    return scratch


def decode_arguments(ctx: RunContext, files: tuple[Path, ...], scratch: Path) -> list[tuple]:
    """`decode_file`'s arguments for each file (plain values: they travel to the workers)."""
    return [(ctx.lake_path, path, scratch / f"{n:06d}", ctx.now, ctx.memory_limit) for n, path in enumerate(files)]


def commit_batch(ctx: RunContext, decoded: tuple[DecodedFile, ...], scratch: Path,
                 spooled: tuple[Path, ...] = ()) -> IngestSummary:
    """Commit one batch the workers decoded, as `ingest_batch` would have; then drop its parts."""
    unreadable = [FileFailure(str(d.path), d.error) for d in decoded if d.error]
    report = commit_decoded(ctx.lake_path, list(decoded), ctx.now, ctx.memory_limit)
    remove_scratch(scratch)
    taken = _release_spool(report, set(spooled))
    return _summarize(report, unreadable, taken)


def _release_spool(report: IngestReport, spooled: set[Path]) -> int:
    """Delete spool files whose events are committed (or already were): the spool has done its job."""
    taken = 0
    for f in report.files:
        if Path(f.path) in spooled and f.status != "failed":
            Path(f.path).unlink(missing_ok=True)
            taken += 1
    return taken


def _summarize(report: IngestReport, unreadable: list[FileFailure], taken: int) -> IngestSummary:
    files = report.files
    failures = tuple(unreadable) + tuple(FileFailure(f.path, f.error) for f in report.failed)
    return IngestSummary(
        files=len(files) + len(unreadable),
        ingested=sum(f.status == "ingested" for f in files),
        already_in_lake=sum(f.status.startswith("skipped") for f in files),
        failed=len(failures),
        records_read=sum(f.records_read for f in files),
        events_written=sum(f.events_written for f in files),
        duplicates=sum(f.duplicates for f in files),
        quarantined=sum(f.quarantined for f in files),
        redactions=sum(f.redactions for f in files),
        spool_files_taken=taken,
        batch_id=report.entry["batch_id"] if report.entry else "",
        failures=failures,
    )


def build_metrics(ctx: RunContext) -> MetricsRun:
    """Session metrics for the sessions new events touched (a full build the first time); the
    inventory given to the run is remembered in the lake first."""
    if not ctx.lake.exists():
        return MetricsRun("up_to_date", 0, 0, 0, None)  # nothing was ever ingested: nothing to measure
    if ctx.inventory_path is not None:
        remember_inventory(ctx.lake, ctx.inventory, str(ctx.inventory_path))
    return run_metrics(ctx.lake, ctx.declared_inventory(), memory_limit=ctx.memory_limit)


def plan_metrics_rounds(ctx: RunContext) -> MetricsPlan:
    """What `build_metrics` would rebuild, planned for the workers (its rounds and their shared input
    in a fresh scratch folder); the inventory given to the run is remembered in the lake first."""
    if ctx.inventory_path is not None:
        remember_inventory(ctx.lake, ctx.inventory, str(ctx.inventory_path))
    scratch = rounds_scratch(ctx.lake_path, uuid.uuid4().hex)
    remove_rounds(scratch.parent)  # a crashed run's: the run lock says no other run is using them
    scratch.mkdir(parents=True)
    return plan_metrics(ctx.lake_path, ctx.declared_inventory(), scratch, memory_limit=ctx.memory_limit)


def round_arguments(ctx: RunContext, plan: MetricsPlan) -> list[tuple]:
    """`build_round_part`'s arguments for each round of the plan (plain values: they travel to the workers)."""
    inventory = ctx.declared_inventory()
    return [(ctx.lake_path, inventory, plan.scratch, index, agents, plan.baseline_days, ctx.memory_limit)
            for index, agents in enumerate(plan.rounds)]


def commit_metrics_rounds(ctx: RunContext, plan: MetricsPlan, parts: tuple[RoundPart, ...]) -> MetricsRun:
    """Commit the rounds the workers built, as `build_metrics` would have; then drop their parts."""
    return commit_rounds(ctx.lake_path, ctx.declared_inventory(), plan, parts, memory_limit=ctx.memory_limit)


def has_pending_events(ctx: RunContext) -> bool:
    """Ingest batches committed after the last metrics build (the guard's "anything new?")."""
    entries = ctx.lake.entries()
    last_ingest = max((e["seq"] for e in entries if e.get("kind") == "ingest"), default=0)
    watermark = max((e.get("watermark", 0) for e in entries if e.get("kind") == "metrics"), default=0)
    return last_ingest > watermark
