"""The stages after metrics run only when something they read changed: a night run twice adds nothing."""

from __future__ import annotations

from agentwatch.flows.stages import is_current


def entry(seq: int, kind: str, *tables: str) -> dict:
    return {"seq": seq, "kind": kind, "outputs": [{"table": t} for t in tables]}


def test_a_stage_never_run_is_not_current() -> None:
    assert not is_current([entry(1, "ingest", "events"), entry(2, "metrics", "steps", "sessions")], "detect")


def test_a_stage_run_after_its_inputs_is_current() -> None:
    entries = [entry(1, "metrics", "steps", "sessions"), entry(2, "detect", "findings", "alerts"),
               entry(3, "risk", "agent_risk", "risk_findings"), entry(4, "escalate", "escalations")]
    assert is_current(entries, "detect") and is_current(entries, "risk")


def test_new_metrics_or_analyst_feedback_make_detect_stale() -> None:
    base = [entry(1, "metrics", "steps", "sessions"), entry(2, "detect", "findings", "alerts")]
    assert not is_current([*base, entry(3, "metrics", "steps", "sessions")], "detect")
    assert not is_current([*base, entry(3, "close", "alert_state")], "detect")


def test_new_findings_make_risk_stale_but_risk_output_does_not_make_detect_stale() -> None:
    entries = [entry(1, "metrics", "sessions"), entry(2, "risk", "risk_findings"), entry(3, "detect", "findings")]
    assert not is_current(entries, "risk")
    assert is_current([*entries, entry(4, "risk", "agent_risk", "risk_findings")], "detect")
