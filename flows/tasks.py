"""The Prefect side of a step: each step is a task run named after what it does, retried only when
it failed on I/O, logged with inert text; the run's summary becomes a markdown artifact.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.states import State
from prefect.utilities.annotations import quote

from agentwatch.flows.pipeline import RunSummary
from agentwatch.flows.report import render_markdown, scalar_fields
from agentwatch.inert import inert_text

RETRY_DELAYS = [5, 30]  # seconds: a disk or a network share that hiccups gets a moment to recover


def failed_on_io(task_: Any, task_run: TaskRun, state: State) -> bool:
    """Retry only an OSError (the disk, a network share); a bug or bad data fails at once."""
    return isinstance(state.result(raise_on_failure=False), OSError)


@task(cache_policy=NO_CACHE, persist_result=False)
def run_step(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """One pipeline step as a task run (never cached: every run must really do its step)."""
    return fn(*args)


def _task_options(name: str, label: str, retries: int) -> dict[str, Any]:
    options: dict[str, Any] = {"name": name, "task_run_name": lambda: inert_text(label)}  # not a template
    if retries:
        options.update(retries=retries, retry_delay_seconds=RETRY_DELAYS[:retries], retry_condition_fn=failed_on_io)
    return options


class PrefectRunner:
    """Runs each step as a Prefect task inside the current flow run; mapped steps go to `task_runner`
    (a started Dask task runner) when there is one."""

    def __init__(self, artifact_key: str, task_runner: Any = None):
        self.artifact_key = artifact_key
        self.task_runner = task_runner

    @property
    def parallel(self) -> bool:
        """Mapped steps run on the cluster's workers."""
        return self.task_runner is not None

    def step(self, name: str, label: str, fn: Callable[..., Any], *args: Any, retries: int = 0) -> Any:
        """The step as a task run named by its (inert) label; I/O failures retried `retries` times."""
        result = run_step.with_options(**_task_options(name, label, retries))(fn, quote(args))
        self._log(label, result)
        return result

    def map(self, name: str, labels: list[str], fn: Callable[..., Any], arg_list: list[tuple[Any, ...]],
            retries: int = 0) -> list[Any]:
        """One task run per argument tuple, submitted at once to the task runner; results in order."""
        futures = [
            self.task_runner.submit(run_step.with_options(**_task_options(name, label, retries)),
                                    {"fn": fn, "args": args})  # plain values: nothing to quote
            for label, args in zip(labels, arg_list, strict=True)
        ]
        results = [future.result() for future in futures]
        for label, result in zip(labels, results, strict=True):
            self._log(label, result)
        return results

    def _log(self, label: str, result: Any) -> None:
        fields = ", ".join(f"{k}={v}" for k, v in scalar_fields(result))
        get_run_logger().info("%s: %s", inert_text(label), inert_text(fields))

    def publish(self, summary: RunSummary) -> None:
        """The summary as the run's markdown artifact (the latest one per flow under one key)."""
        create_markdown_artifact(markdown=render_markdown(summary), key=self.artifact_key,
                                 description=f"agentwatch {summary.flow} run summary")
