"""The pipeline as data: discover -> ingest (one step per batch of files) -> the ordered stages.

`run_pipeline` is the one code path both flows and `agentwatch run` take. How a step is executed is
the runner's business: `DirectRunner` calls the function, the Prefect runner (flows/tasks.py) makes
it a task run with a name, retries and logs. A step that raises fails the run loudly with its reason,
after the summary of what did happen has been published.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from agentwatch.detectors.metrics.parallel import build_round_part
from agentwatch.errors import AgentwatchError, ConfigError, InputError
from agentwatch.flows import stages, steps
from agentwatch.flows.context import RunContext
from agentwatch.flows.runlock import run_lock
from agentwatch.ingest.parallel import decode_file


@dataclass(frozen=True)
class PipelineStage:
    """One stage after ingest: a plain function of the run context returning a frozen summary."""

    name: str
    run: Callable[[RunContext], Any]


# The stages after ingest, in pipeline order.
NIGHTLY_STAGES: tuple[PipelineStage, ...] = (
    PipelineStage("metrics", steps.build_metrics),
    PipelineStage("detect", stages.detect_sessions),
    PipelineStage("risk", stages.measure_risk),
    PipelineStage("escalate", stages.escalate_alerts),
)
# The guard runs only the stages on the way to an escalation (no risk model), when something is new.
GUARD_STAGES: tuple[PipelineStage, ...] = (
    PipelineStage("metrics", steps.build_metrics),
    PipelineStage("detect", stages.detect_sessions),
    PipelineStage("escalate", stages.escalate_alerts),
)


@dataclass(frozen=True)
class StepResult:
    """One executed step: its label, wall time, and the summary it returned or the error it raised."""

    name: str
    label: str
    seconds: float
    summary: Any = None
    error: str = ""


@dataclass(frozen=True)
class RunSummary:
    """A whole run, as the CLI prints it and the flows publish it."""

    flow: str
    lake: str
    started_at: datetime
    seconds: float
    waited_for_lock: float
    steps: tuple[StepResult, ...]
    note: str = ""

    @property
    def failed(self) -> StepResult | None:
        """The step that failed the run, if any."""
        return next((s for s in self.steps if s.error), None)


MISTAKES = (ConfigError, InputError)
_FAILED = object()  # what `_timed` returns when the step raised (a step may legitimately return None)


class StepFailed(AgentwatchError):
    """A pipeline step raised: the run stops and says which step and why; `summary` is what did happen."""

    def __init__(self, message: str, where: str, summary: RunSummary):
        super().__init__(message, where)
        self.summary = summary


class Runner(Protocol):
    """Executes steps (directly, or as Prefect tasks) and publishes the run's summary; a `parallel`
    runner maps ingest's decoding over the files of a batch, and the metrics rounds, on its workers."""

    parallel: bool

    def step(self, name: str, label: str, fn: Callable[..., Any], *args: Any, retries: int = 0) -> Any: ...

    def map(self, name: str, labels: list[str], fn: Callable[..., Any], arg_list: list[tuple[Any, ...]],
            retries: int = 0) -> list[Any]: ...

    def publish(self, summary: RunSummary) -> None: ...


class DirectRunner:
    """Calls each step as a plain function; `echo` receives one line per finished step."""

    parallel = False

    def __init__(self, echo: Callable[[str], None] | None = None):
        self.echo = echo

    def step(self, name: str, label: str, fn: Callable[..., Any], *args: Any, retries: int = 0) -> Any:
        """Run the step once (retries are the Prefect runner's: here a failure is reported at once)."""
        if self.echo:
            self.echo(label)
        return fn(*args)

    def map(self, name: str, labels: list[str], fn: Callable[..., Any], arg_list: list[tuple[Any, ...]],
            retries: int = 0) -> list[Any]:
        """Each call in turn."""
        return [self.step(name, label, fn, *args) for label, args in zip(labels, arg_list, strict=True)]

    def publish(self, summary: RunSummary) -> None:
        """Nothing to publish outside Prefect: the CLI prints the summary."""


def run_pipeline(ctx: RunContext, runner: Runner, *, flow: str = "nightly", guard: bool = False,
                 stages: tuple[PipelineStage, ...] | None = None) -> RunSummary:
    """Discover, ingest, then each stage in order, holding the lake's run lock throughout."""
    stages = stages if stages is not None else (GUARD_STAGES if guard else NIGHTLY_STAGES)
    started, clock = datetime.now(UTC), time.monotonic()
    results: list[StepResult] = []
    with run_lock(ctx.lake_path, ctx.lock_timeout) as waited:
        note = _run_steps(ctx, runner, guard, stages, results)
    summary = RunSummary(flow, str(ctx.lake_path), started, time.monotonic() - clock, waited, tuple(results), note)
    runner.publish(summary)
    if summary.failed:
        failed = summary.failed
        raise StepFailed(f"{flow} run failed at step {failed.label!r}: {failed.error}", str(ctx.lake_path), summary)
    return summary


def _run_steps(ctx: RunContext, runner: Runner, guard: bool, stages: tuple[PipelineStage, ...],
               results: list[StepResult]) -> str:
    discovery = _timed(results, runner, "discover", _discover_label(ctx, guard), steps.discover, ctx, guard)
    if discovery is _FAILED:
        return ""
    batches = steps.plan_batches(discovery.files)
    for number, batch in enumerate(batches, start=1):
        label = f"ingest {number}/{len(batches)}: {_files_named(batch)}"
        if _ingest(results, runner, ctx, batch, label, discovery.spooled) is _FAILED:
            return ""
    if guard and not steps.has_pending_events(ctx):
        return "nothing new since the last run: later stages skipped"
    for stage in stages:
        if stage.name == "metrics" and runner.parallel and ctx.lake.exists():
            outcome = _metrics(results, runner, ctx)
        else:
            outcome = _timed(results, runner, stage.name, f"{stage.name} {ctx.lake_path}", stage.run, ctx)
        if outcome is _FAILED:
            return ""
    return ""


def _files_named(batch: tuple[Path, ...]) -> str:
    """The batch's files as a label names them: the one file, or how many beside the first."""
    if len(batch) == 1:
        return batch[0].name
    return f"{len(batch)} files ({batch[0].name} and {len(batch) - 1} more)"


def _ingest(results: list[StepResult], runner: Runner, ctx: RunContext, batch: tuple[Path, ...], label: str,
            spooled: tuple[Path, ...]) -> Any:
    """One batch: in one step, or (parallel runner) decoded file by file on the workers, then committed."""
    if not runner.parallel:
        return _timed(results, runner, "ingest", label, steps.ingest_batch, ctx, batch, spooled, retries=2)
    clock, scratch = time.monotonic(), steps.prepare_decode(ctx)
    try:
        decoded = runner.map("decode", [f"decode {path.parent.name}/{path.name}" for path in batch], decode_file,
                             steps.decode_arguments(ctx, batch, scratch))
    except Exception as exc:  # a worker's failure ends the run like any failed step
        results.append(StepResult("decode", f"decode: {label}", time.monotonic() - clock, error=_reason(exc)))
        return _FAILED
    return _timed(results, runner, "ingest", label, steps.commit_batch, ctx, tuple(decoded), scratch, spooled,
                  retries=2)


def _metrics(results: list[StepResult], runner: Runner, ctx: RunContext) -> Any:
    """Metrics on a parallel runner: planned here, built round by round on the workers, committed here."""
    plan = _timed(results, runner, "metrics plan", f"metrics plan {ctx.lake_path}", steps.plan_metrics_rounds, ctx)
    if plan is _FAILED:
        return _FAILED
    clock, count = time.monotonic(), len(plan.rounds)
    try:
        parts = runner.map("metrics round", [f"metrics round {n}/{count}" for n in range(1, count + 1)],
                           build_round_part, steps.round_arguments(ctx, plan))
    except Exception as exc:  # a worker's failure ends the run like any failed step
        results.append(StepResult("metrics round", f"metrics rounds: {count}", time.monotonic() - clock,
                                  error=_reason(exc)))
        return _FAILED
    return _timed(results, runner, "metrics", f"metrics {ctx.lake_path}", steps.commit_metrics_rounds, ctx, plan,
                  tuple(parts))


def _timed(results: list[StepResult], runner: Runner, name: str, label: str, fn: Callable[..., Any],
           *args: Any, retries: int = 0) -> Any:
    """Run one step through the runner and record it; `_FAILED` when it raised (the run stops there)."""
    clock = time.monotonic()
    mistakes = MISTAKES if name == "discover" else (ConfigError,)
    try:
        summary = runner.step(name, label, fn, *args, retries=retries)
    except mistakes:
        raise  # a missing source or PATH is the caller's mistake (exit 2), not a failed night
    except Exception as exc:  # any failure ends the run; the summary records which step and why
        results.append(StepResult(name, label, time.monotonic() - clock, error=_reason(exc)))
        return _FAILED
    results.append(StepResult(name, label, time.monotonic() - clock, summary))
    return summary


def _reason(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, AgentwatchError) else f"{type(exc).__name__}: {exc}"


def _discover_label(ctx: RunContext, guard: bool) -> str:
    if ctx.paths:
        return f"discover {len(ctx.paths)} named path(s)"
    what = "new files" if guard else "files"
    return f"discover {what} in {len(ctx.sources)} sources and the spool"
