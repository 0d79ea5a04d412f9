"""Each dimension's mapping on tiny stories: what an agent did, and the 1-5 score it earns."""

from __future__ import annotations

import json

from agentwatch.detectors.risk.model import load_controls
from agentwatch.detectors.risk.run import measure_dimensions
from tests.detectors.metrics.approval_support import ALICE_KEYS, signed
from tests.detectors.metrics.metrics_support import agent, run_metrics
from tests.support.builders import reasoning, response, session, tool_call, tool_result, user

DIMS = ("access", "action", "autonomy", "oversight", "goal_stability", "monitoring")


def measured(*sessions: list[dict], agents=()) -> dict[str, dict]:
    """agent_id -> {dimension: score, 'evidence': {...}} for the sessions' (single) day."""
    frame = measure_dimensions(run_metrics(*sessions, agents=agents), load_controls())
    return {r["agent_id"]: {**{d: r[f"measured_{d}"] for d in DIMS}, "evidence": json.loads(r["evidence"])}
            for r in frame.iter_rows(named=True)}


def observed_call(call_id: str, tool: str, args: dict, result: str = "ok") -> list[dict]:
    """A call with its reasoning, token usage and result captured."""
    return [reasoning(f"next: {tool}", output_tokens=5), tool_call(call_id, tool, args), tool_result(call_id, result)]


def test_a_supervised_reader_is_low_on_every_risk_and_fully_observed():
    (scores,) = measured(session("reader", user("what does /srv/app/readme say"),
                                 *observed_call("c1", "read_file", {"path": "/srv/app/readme"}),
                                 response("it says hello", output_tokens=3))).values()
    assert {d: scores[d] for d in DIMS} == {"access": 2, "action": 1, "autonomy": 1, "oversight": 4,
                                            "goal_stability": 5, "monitoring": 5}


def test_an_unapproved_shell_wipe_is_the_widest_action_and_the_weakest_oversight():
    (scores,) = measured(session("wiper", user("tidy up the disk"),
                                 tool_call("c1", "bash", {"cmd": "rm -rf /srv/data"}),
                                 tool_result("c1", "removed"))).values()
    assert (scores["action"], scores["oversight"]) == (5, 1)
    assert scores["monitoring"] == 2     # results captured, reasoning and tokens not
    assert scores["evidence"]["action"]["metrics"]["count_command_calls"] == 1
    assert scores["evidence"]["oversight"]["sessions"] == ["wiper-session"]


def test_an_approval_before_the_call_restores_oversight():
    # oversight counts only verified approvals: signed by a key the inventory lists for the agent
    (scores,) = measured(session("wiper", user("tidy up the disk"),
                                 signed("c1", "bash", {"cmd": "rm -rf /srv/data"}),
                                 tool_call("c1", "bash", {"cmd": "rm -rf /srv/data"}),
                                 tool_result("c1", "removed")),
                         agents=[agent("wiper", approval_keys=ALICE_KEYS)]).values()
    assert scores["oversight"] == 5 and scores["action"] == 5


def test_calls_chained_without_a_human_raise_autonomy():
    calls = [step for i in range(4) for step in observed_call(f"c{i}", "read_file", {"path": f"/srv/{i}"})]
    (one_turn,) = measured(session("chainer", user("read the four files"), *calls)).values()
    prompted = [step for i in range(4) for step in (user(f"read /srv/{i}"), *observed_call(
        f"c{i}", "read_file", {"path": f"/srv/{i}"}))]
    (each_turn,) = measured(session("chainer", *prompted)).values()
    assert (one_turn["autonomy"], each_turn["autonomy"]) == (4, 1)


def test_a_delegated_session_acts_without_a_human():
    parent = session("lead", user("research it"), *observed_call("c1", "read_file", {"path": "/r/a"}),
                     session_id="p1")
    child = session("lead", user("read /r/b", actor=None), *observed_call("c2", "read_file", {"path": "/r/b"}),
                    session_id="k1", parent_session_id="p1")
    (scores,) = measured(parent, child).values()
    assert scores["autonomy"] == 3    # half of the day's calls were a sub-agent's
    assert "k1" in scores["evidence"]["autonomy"]["sessions"]


def test_a_repeated_call_loop_lowers_goal_stability():
    loop = [step for i in range(12) for step in observed_call(f"c{i}", "ci_status", {"ref": "abc"})]
    (scores,) = measured(session("looper", user("wait for ci"), *loop)).values()
    assert scores["goal_stability"] == 4
    assert scores["evidence"]["goal_stability"]["metrics"]["max_tool_repeat"] == 12
