"""Goal drift: how far the agent's steps move from what the humans asked."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from tests.detectors.metrics.metrics_support import rows, run_metrics, session_row, step_column
from tests.support.builders import START, reasoning, response, session, system, tool_call, user


def test_golden_drift_without_history_weighs_every_word_alike():
    con = run_metrics(session(
        "a1",
        user("fix timeout bug payments"),
        reasoning("inspect timeout handler"),  # timeout of 3 words
        tool_call("c1", "read_file", {"path": "/srv/payments/timeout.py"}),  # 2 of 6
        response("fix done"),  # 1 of 2
        session_id="s1",
    ))
    drift = rows(con, "select step_index, goal_relevance, goal_drift from int_step_drift order by step_index")
    assert [(r["step_index"], round(r["goal_drift"], 6)) for r in drift] == [
        (2, round(2 / 3, 6)), (3, round(2 / 3, 6)), (4, 0.5)]
    row = session_row(con, "s1")
    assert row["goal_drift_level"] == pytest.approx((2 / 3 + 2 / 3 + 0.5) / 3)
    assert row["goal_drift_max"] == pytest.approx(2 / 3)
    assert row["count_drift_steps"] == 3


def test_words_the_agent_always_uses_weigh_less():
    history = session(
        "a1", user("deploy workspace"), tool_call("c1", "ls", {"path": "/workspace"}),
        session_id="yesterday", start=START - timedelta(days=1))
    today = session("a1", user("fix payments"), tool_call("c1", "ls", {"path": "/workspace/payments"}), session_id="s1")
    con = run_metrics(history, today)
    # two documents yesterday: {deploy, workspace} and {ls, workspace}
    idf_ls, idf_workspace, idf_payments = math.log(3 / 2) + 1, 1.0, math.log(3) + 1
    expected = idf_payments / (idf_ls + idf_workspace + idf_payments)
    assert step_column(con, "s1", "goal_relevance")[1] == pytest.approx(expected)


def test_history_counts_only_the_baseline_window_of_prior_days():
    def old(days: int, session_id: str) -> list[dict]:
        return session("a1", user("rotate logs"), tool_call("c1", "ls", {"path": "/workspace"}),
                       session_id=session_id, start=START - timedelta(days=days))
    same_day = session("a1", user("other"), tool_call("c1", "ls", {"path": "/workspace"}), session_id="same-day",
                       start=START + timedelta(hours=1))
    today = session("a1", user("fix payments"), tool_call("c1", "ls", {"path": "/workspace/payments"}), session_id="s1")
    con = run_metrics(old(8, "too-old"), old(3, "in-window"), same_day, today, baseline_days=7)
    # only "in-window" counts: {rotate, logs}, {ls, workspace}
    idf_ls = idf_workspace = math.log(3 / 2) + 1
    idf_payments = math.log(3) + 1
    expected = idf_payments / (idf_ls + idf_workspace + idf_payments)
    assert step_column(con, "s1", "goal_relevance")[1] == pytest.approx(expected)
    assert session_row(con, "s1")["baseline_session_count"] == 1


def test_a_human_changing_the_task_is_not_drift():
    changed_by_human = session(
        "a1",
        user("fix the timeout bug"),
        tool_call("c1", "grep", {"pattern": "timeout"}),
        user("now update the readme docs"),
        tool_call("c2", "edit", {"file": "readme docs"}),
        session_id="human",
    )
    changed_by_agent = session(
        "a1",
        user("fix the timeout bug"),
        tool_call("c1", "grep", {"pattern": "timeout"}),
        tool_call("c2", "edit", {"file": "readme docs"}),
        session_id="agent",
    )
    con = run_metrics(changed_by_human, changed_by_agent)
    human = step_column(con, "human", "goal_drift")
    agent = step_column(con, "agent", "goal_drift")
    assert human[3] == pytest.approx(1 / 3)  # "edit" is new; "readme", "docs" were asked for
    assert agent[2] == pytest.approx(1.0)
    assert session_row(con, "human")["goal_drift_level"] < session_row(con, "agent")["goal_drift_level"]


def test_steps_before_any_prompt_are_not_scored():
    con = run_metrics(session(
        "a1", system("nightly backup job"), tool_call("c1", "backup", {"db": "ledger"}), session_id="s1"))
    assert step_column(con, "s1", "goal_drift") == [None, None]
    row = session_row(con, "s1")
    assert row["goal_drift_level"] is None
    assert row["goal_drift_trend"] is None
    assert row["count_drift_steps"] == 0


def test_a_step_without_words_is_not_scored():
    con = run_metrics(session("a1", user("list files"), tool_call("c1", "x", {"a": "1 2 3"}), session_id="s1"))
    assert step_column(con, "s1", "goal_drift") == [None, None]


def test_trend_is_the_slope_within_each_prompt_segment():
    con = run_metrics(session(
        "a1",
        user("alpha beta"),
        response("alpha beta"),  # drift 0
        response("alpha gamma"),  # 0.5
        response("delta gamma"),  # 1
        user("omega"),
        response("delta omega"),  # 0.5: delta is new, omega asked
        response("omega"),  # 0
        session_id="s1",
    ))
    # segment 1: x = 1,2,3, y = 0,.5,1; segment 2: x = 1,2, y = .5,0
    # sum dx*dy = (-1)(-.5) + 0 + (1)(.5) + (-.5)(.25) + (.5)(-.25) = 0.75; sum dx^2 = 2 + 0.5 = 2.5
    assert session_row(con, "s1")["goal_drift_trend"] == pytest.approx(0.75 / 2.5)


def test_one_scored_step_has_no_trend():
    con = run_metrics(session("a1", user("alpha"), response("beta"), session_id="s1"))
    row = session_row(con, "s1")
    assert row["goal_drift_level"] == pytest.approx(1.0)
    assert row["goal_drift_trend"] is None
