"""The stages after metrics, as plain functions of the run context: detect, risk, escalate.

Each calls its stage's entry point with the settings the context resolved at the edge; the pipeline
(`flows/pipeline.py`) lists them in order for the nightly and the guard flows.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentwatch.config import path_list
from agentwatch.detectors.detect import DetectRun, run_detect
from agentwatch.detectors.escalate import EscalationRun, run_escalations
from agentwatch.detectors.playbooks import load_playbooks
from agentwatch.detectors.risk import RiskRun, run_risk
from agentwatch.detectors.risk_model import load_controls
from agentwatch.flows.context import RunContext


@dataclass(frozen=True)
class EscalationSkipped:
    """No playbooks are configured: alerts are raised, nobody is paged."""

    playbooks: str = "none configured (setting playbooks)"


def detect_sessions(ctx: RunContext) -> DetectRun:
    """Rules and anomaly models over the lake: session scores, findings, alerts."""
    return run_detect(ctx.lake, inventory=ctx.inventory_path, rules_dirs=path_list(ctx.settings.get("rules_dirs")),
                      now=ctx.now)


def measure_risk(ctx: RunContext) -> RiskRun:
    """The six dimensions per agent and day, both matrices, declared-vs-observed findings."""
    settings = ctx.settings
    return run_risk(ctx.lake, inventory=ctx.inventory, now=ctx.now, high=float(settings.get("risk_high", 3)),
                    gap=int(settings.get("risk_gap", 2)), controls=load_controls(settings.get("risk_controls") or None))


def escalate_alerts(ctx: RunContext) -> EscalationRun | EscalationSkipped:
    """The playbooks' actions on open alerts, each alert once per action."""
    path = ctx.settings.get("playbooks")
    if not path:
        return EscalationSkipped()
    return run_escalations(ctx.lake, load_playbooks(path), now=ctx.now)
