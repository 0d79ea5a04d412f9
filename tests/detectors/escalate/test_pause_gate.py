"""The pause gate's state: paused from the first pause after the latest resume; ties fail closed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agentwatch.detectors.escalate.pause_gate import agent_control, append_control, resume_agent
from agentwatch.errors import LakeError
from agentwatch.lake import Lake
from tests.detectors.escalate.escalation_support import NOW, write_alerts


def record(lake: Lake, *rows: tuple[str, str, int]) -> None:
    with lake.writer() as writer:
        for agent_id, state, minute in rows:
            append_control(writer, agent_id, state, by=f"{state}-by", reason=f"{state} at {minute}",
                           at=NOW + timedelta(minutes=minute), alert_key=f"k{minute}")
        writer.commit("control")


def test_no_lake_is_an_error_and_no_rows_is_not_paused(lake):
    with pytest.raises(LakeError):
        agent_control(Lake(lake), "a")
    write_alerts(lake)
    assert agent_control(Lake(lake), "a").paused is False


def test_since_is_the_first_pause_after_the_latest_resume(lake):
    write_alerts(lake)
    record(Lake(lake), ("a", "paused", 1), ("a", "paused", 2), ("a", "resumed", 3), ("a", "paused", 5),
           ("a", "paused", 7), ("b", "paused", 4), ("b", "resumed", 6))
    state = agent_control(Lake(lake), "a")
    assert (state.paused, state.since, state.reason, state.alert_key) == (
        True, NOW + timedelta(minutes=5), "paused at 5", "k5")
    assert agent_control(Lake(lake), "b").paused is False


def test_a_pause_at_the_same_instant_as_a_resume_stays_paused(lake):
    write_alerts(lake)
    record(Lake(lake), ("a", "paused", 1), ("a", "resumed", 1))
    assert agent_control(Lake(lake), "a").paused is True


def test_resume_records_who_and_only_when_paused(lake):
    write_alerts(lake)
    assert resume_agent(Lake(lake), "a", by="ana", at=NOW) is None
    assert "control" not in Lake(lake).tables()
    record(Lake(lake), ("a", "paused", 1))
    lifted = resume_agent(Lake(lake), "a", by="ana", at=NOW + timedelta(minutes=2), reason="false positive")
    assert lifted is not None and lifted.since == NOW + timedelta(minutes=1)
    assert agent_control(Lake(lake), "a").paused is False
    rows = Lake(lake).connect().execute('select state, "by", reason from control order by "at"').fetchall()
    assert rows == [("paused", "paused-by", "paused at 1"), ("resumed", "ana", "false positive")]
