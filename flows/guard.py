"""The guard flow: every `guard_interval` seconds, only what is new (spool files, files the manifest
does not list at their size), then only the stages on the way to an escalation.
"""

from __future__ import annotations

from typing import Any

from prefect import flow

from agentwatch.flows.context import build_context
from agentwatch.flows.nightly import run_name
from agentwatch.flows.pipeline import RunSummary, run_pipeline
from agentwatch.flows.tasks import PrefectRunner


@flow(name="agentwatch-guard", flow_run_name=lambda: run_name("guard"))
def guard_flow(settings: dict[str, Any]) -> RunSummary:
    """New events since the last run, through the escalating stages."""
    ctx = build_context(settings)
    return run_pipeline(ctx, PrefectRunner("agentwatch-guard"), flow="guard", guard=True)
