"""Golden rows of the intermediate models about what an agent does over a session and its history:
int_step_drift, int_session_scope, int_peer_novelty."""

from __future__ import annotations

import math
from datetime import timedelta

import duckdb

from tests.detectors.metrics.metrics_support import agent, run_metrics
from tests.detectors.metrics.model_stories import table_rows
from tests.support.builders import START, reasoning, response, session, tool_call, user


def test_int_step_drift_scores_each_agent_step_against_the_prompts_so_far():
    # no history: every idf is 1, so relevance is the share of a step's words found in the anchor
    con = run_metrics(session(
        "ops",
        response("before any prompt"),  # not scored: no goal yet
        user("fix payment bug"),
        response("fix the payment bug now"),  # words fix, payment, bug, now->stop word: 3 of 3
        tool_call("c1", "read_file", {"path": "/tmp/notes"}),  # read, file, tmp, notes: 0 of 4
        reasoning("payment notes"),  # 1 of 2
        user("also notes"),  # the anchor grows: notes is part of the goal from here on
        reasoning("payment notes"),  # 2 of 2
    ))
    got = table_rows(con, "int_step_drift", "step_index, goal_relevance, goal_drift", "step_index")
    expected = [(3, 1, 0), (4, 0, 1), (5, 0.5, 0.5), (7, 1, 0)]
    assert [(r["step_index"], float(r["goal_relevance"]), float(r["goal_drift"])) for r in got] == expected


def test_int_step_drift_weighs_words_the_agent_used_lately_less():
    yesterday = session("ops", user("ping"), response("status report"), session_id="old")
    today = session("ops", user("ledger"), response("ledger status"), session_id="new",
                    start=START + timedelta(days=1))
    con = run_metrics(yesterday, today, sessions_filter=[("ops", "new")])
    (row,) = table_rows(con, "int_step_drift", "goal_relevance", "step_index")
    # baseline: 2 documents (the old prompt and response); status is in 1 of them, ledger in none
    ledger, status = math.log(3 / 1) + 1, math.log(3 / 2) + 1
    assert math.isclose(float(row["goal_relevance"]), ledger / (ledger + status), abs_tol=1e-9)


def tidy_session() -> duckdb.DuckDBPyConnection:
    """Four calls after one prompt: two in scope, then a path outside it and a mail by a tool not allowed."""
    ops = agent("ops", scope={"paths": ["/srv/app/**"]}, allowed_tools=["read_file"])
    return run_metrics(session(
        "ops",
        user("tidy the app folder"),
        tool_call("c1", "read_file", {"path": "/srv/app/a"}),
        tool_call("c2", "read_file", {"path": "/srv/app/b"}),
        tool_call("c3", "read_file", {"path": "/etc/shadow"}),
        tool_call("c4", "send_email", {"to": "x@corp.example"}),
    ), agents=[ops])


def test_int_session_scope_counts_late_new_baseline_new_out_of_scope_and_not_allowed():
    (got,) = table_rows(tidy_session(), "int_session_scope", "int_session_scope.* exclude (session_key)", "1")
    assert got == {
        "session_id": "ops-session",
        "count_late_new_tools": 1,  # send_email
        # calls 3 and 4 of the segment's 4 are late: /etc/shadow and the address
        "count_late_new_resources": 2,
        "count_distinct_resources": 4,
        "count_new_tools_vs_baseline": 2,  # no history: all new (the sessions mart nulls these)
        "count_new_resources_vs_baseline": 4,
        "count_out_of_scope_resources": 2,  # no emails declared: none allowed
        "out_of_scope_resources": ["email:x@corp.example", "path:/etc/shadow"],
        "count_tools_not_allowed": 1,
    }


def test_int_peer_novelty_compares_a_session_with_its_same_goal_peers():
    def ticket(session_id: str, day: int, number: int, *tools: str) -> list[dict]:
        calls = [tool_call(f"c{i}", name, {"n": "x"}) for i, name in enumerate(tools)]
        return session("desk", user(f"Take ticket #{number} please"), *calls, session_id=session_id,
                       start=START + timedelta(days=day))

    peers = [ticket(f"p{i}", 0, 100 + i, "read_ticket") for i in range(5)]
    con = run_metrics(*peers, ticket("t", 1, 22, "read_ticket", "wire_money"))
    got = table_rows(con, "int_peer_novelty", "goal_key, peer_group_size, count_peer_novel_items, "
                     "peer_novel_items", "int_sessions.session_id")
    first_day = {"goal_key": "take ticket ## please", "peer_group_size": 0, "count_peer_novel_items": None,
                 "peer_novel_items": None}
    assert got == [
        *({"session_id": f"p{i}", **first_day} for i in range(5)),
        # five peers the day before all read tickets; none wired money (0 < 0.1 * 5)
        {"session_id": "t", "goal_key": "take ticket ## please", "peer_group_size": 5,
         "count_peer_novel_items": 1, "peer_novel_items": ["tool:wire_money"]},
    ]
