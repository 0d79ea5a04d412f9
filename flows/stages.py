"""The stages after metrics, as plain functions of the run context: detect, risk, escalate.

Each calls its stage's entry point with the settings the context resolved at the edge; the pipeline
(`flows/pipeline.py`) lists them in order for the nightly and the guard flows.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentwatch.config import path_list
from agentwatch.detectors.detect.run import DetectRun, run_detect
from agentwatch.detectors.escalate.playbooks import load_playbooks
from agentwatch.detectors.escalate.run import EscalationRun, run_escalations
from agentwatch.detectors.risk.model import load_controls
from agentwatch.detectors.risk.run import RiskRun, run_risk
from agentwatch.flows.context import RunContext

# What each stage reads: when no commit since the stage's last run wrote one of these tables, running it
# again would commit the same tables once more, so a night with nothing new skips it (idempotent runs).
# Edited rule files or risk settings take effect with the next new data, or at once with `agentwatch
# detect` / `agentwatch risk --update`.
STAGE_INPUTS = {
    "detect": ("sessions", "steps", "alert_state"),
    "risk": ("sessions", "steps", "findings"),
}


@dataclass(frozen=True)
class StageSkipped:
    """The stage's inputs have not changed since its last run."""

    skipped: str = "up to date: nothing it reads changed since its last run"


def is_current(entries: list[dict], kind: str) -> bool:
    """A `kind` entry was committed after the last entry that wrote any table the stage reads."""
    last_run = last_input = 0
    for entry in entries:
        if entry.get("kind") == kind:
            last_run = entry["seq"]
        elif {out["table"] for out in entry.get("outputs", ())} & set(STAGE_INPUTS[kind]):
            last_input = entry["seq"]
    return last_run > last_input


@dataclass(frozen=True)
class EscalationSkipped:
    """No playbooks are configured: alerts are raised, nobody is paged."""

    playbooks: str = "none configured (setting playbooks)"


def detect_sessions(ctx: RunContext) -> DetectRun | StageSkipped:
    """Rules and anomaly models over the lake: session scores, findings, alerts."""
    if is_current(ctx.lake.entries(), "detect"):
        return StageSkipped()
    return run_detect(ctx.lake, rules_dirs=path_list(ctx.settings.get("rules_dirs")),
                      now=ctx.now, memory_limit=ctx.memory_limit)


def measure_risk(ctx: RunContext) -> RiskRun | StageSkipped:
    """The six dimensions per agent and day, both matrices, declared-vs-observed findings."""
    if is_current(ctx.lake.entries(), "risk"):
        return StageSkipped()
    settings = ctx.settings
    return run_risk(ctx.lake, inventory=ctx.declared_inventory(), now=ctx.now, high=float(settings.get("risk_high", 3)),
                    gap=int(settings.get("risk_gap", 2)), controls=load_controls(settings.get("risk_controls") or None),
                    memory_limit=ctx.memory_limit)


def escalate_alerts(ctx: RunContext) -> EscalationRun | EscalationSkipped:
    """The playbooks' actions on open alerts, each alert once per action."""
    path = ctx.settings.get("playbooks")
    if not path:
        return EscalationSkipped()
    return run_escalations(ctx.lake, load_playbooks(path), now=ctx.now)
