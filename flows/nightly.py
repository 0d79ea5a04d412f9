"""The nightly flow: discover new files -> ingest (a task run per batch of files; under Dask, a task
run per file on the workers, then the batch's commit) -> the stages in pipeline order (metrics:
under Dask its plan, a task run per round of agents on the workers, then the commit; detect, risk,
escalate), then a summary artifact.
"""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.runtime import flow_run

from agentwatch.flows.context import build_context
from agentwatch.flows.pipeline import RunSummary, run_pipeline
from agentwatch.flows.runners import open_task_runner
from agentwatch.flows.tasks import PrefectRunner


def run_name(kind: str) -> str:
    """A flow run's name from its parameters: which lake, and which input."""
    params = flow_run.parameters or {}
    settings, paths = params.get("settings") or {}, params.get("paths") or []
    source = f"paths={len(paths)}" if paths else f"sources={len(settings.get('sources') or ())}+spool"
    return f"{kind} lake={settings.get('lake', '?')} {source}"


@flow(name="agentwatch-nightly", flow_run_name=lambda: run_name("nightly"))
def nightly_flow(settings: dict[str, Any], paths: list[str] | None = None) -> RunSummary:
    """The whole pipeline once over everything new under the sources, the spool, or PATHs."""
    ctx = build_context(settings, paths or ())
    with open_task_runner(settings) as task_runner:
        return run_pipeline(ctx, PrefectRunner("agentwatch-nightly", task_runner), flow="nightly")
