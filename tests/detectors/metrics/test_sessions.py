"""`sessions`: volume, autonomy, oversight, telemetry, delegation, loops and flags, edge cases first."""

from __future__ import annotations

import pytest

from tests.detectors.metrics.approval_support import ALICE_KEYS, sign, signed
from tests.detectors.metrics.metrics_support import agent, rows, run_metrics, session_row
from tests.support.builders import approval, error, reasoning, response, session, spawn, tool_call, tool_result, user

DEPLOYER = agent("deployer", approval_required=["deploy"], approval_keys=ALICE_KEYS)


def test_golden_session_row():
    con = run_metrics(session(
        "deployer",
        user("deploy the fix"),
        reasoning("deploy the fix", input_tokens=10, output_tokens=4),
        tool_call("c1", "deploy", {"env": "staging"}),
        approval("c1", key_id="alice-2026", signature=sign("deploy(env=staging)"), summary="deploy(env=staging)"),
        tool_result("c1", "deployed"),
        response("done", input_tokens=20, output_tokens=2),
        session_id="s1",
        step_seconds=30,
    ), agents=[DEPLOYER])
    row = session_row(con, "s1")
    expected = {
        "agent_id": "deployer", "session_id": "s1", "parent_session_id": None, "duration_seconds": 150.0,
        "count_events": 6, "count_user_prompts": 1, "count_tool_calls": 1, "count_tool_results": 1,
        "count_llm_responses": 1, "count_reasoning": 1, "count_approvals": 1, "count_errors": 0,
        "sum_input_tokens": 30, "sum_output_tokens": 6,
        "count_sensitive_actions": 1, "count_approved_sensitive_actions": 1, "oversight_coverage": 1.0,
        "telemetry_coverage": 1.0, "longest_autonomy_run": 1, "share_steps_without_human": 0.0,
        "count_destructive_actions": 0, "count_privilege_actions": 0, "count_spawned": 0, "spawn_depth": 0,
        "max_tool_repeat": 1, "count_repeated_tool_calls": 0, "count_flagged_events": 0,
    }
    assert {k: row[k] for k in expected} == expected
    (step,) = rows(con, "select approval_key_id, approval_signature, approval_actor from steps where has_approval")
    assert step == {"approval_key_id": "alice-2026", "approval_signature": sign("deploy(env=staging)"),
                    "approval_actor": "alice"}


def test_token_sums_are_bigint():
    big = 2**40
    con = run_metrics(session("a1", response("x", input_tokens=big), response("y", input_tokens=big), session_id="s1"))
    (types,) = rows(con, "select typeof(sum_input_tokens) as t, sum_input_tokens as v from sessions")
    assert types == {"t": "BIGINT", "v": 2**41}


def test_a_session_with_no_tool_calls():
    con = run_metrics(session("a1", user("hello"), response("hi there"), session_id="s1"))
    row = session_row(con, "s1")
    assert (row["count_tool_calls"], row["longest_autonomy_run"], row["max_tool_repeat"]) == (0, 0, 0)
    assert row["share_steps_without_human"] is None
    assert row["telemetry_coverage"] is None
    assert row["oversight_coverage"] is None
    assert (row["count_late_new_tools"], row["count_distinct_resources"]) == (0, 0)


def test_a_session_of_one_event():
    con = run_metrics(session("a1", tool_call("c1", "ls"), session_id="s1"))
    row = session_row(con, "s1")
    assert (row["count_events"], row["duration_seconds"], row["count_tool_calls"]) == (1, 0.0, 1)
    assert (row["longest_autonomy_run"], row["share_steps_without_human"]) == (1, 1.0)
    assert row["telemetry_coverage"] == 0.0
    assert row["goal_drift_level"] is None


def test_missing_tokens_sum_to_zero_and_leave_telemetry_incomplete():
    con = run_metrics(session(
        "a1", user("go"), reasoning("plan"), tool_call("c1", "ls"), tool_result("c1", "a b"), session_id="s1"))
    row = session_row(con, "s1")
    assert (row["sum_input_tokens"], row["sum_output_tokens"], row["count_events_with_tokens"]) == (0, 0, 0)
    assert (row["share_calls_with_reasoning"], row["share_calls_with_result"]) == (1.0, 1.0)
    assert (row["share_calls_with_tokens"], row["telemetry_coverage"]) == (0.0, 0.0)


def test_autonomy_runs_end_at_every_human_turn():
    con = run_metrics(session(
        "a1",
        user("go"),
        tool_call("c1", "a"), tool_call("c2", "b"), tool_call("c3", "c"),
        approval("c3"),
        tool_call("c4", "d"), tool_call("c5", "e"),
        user("more"),
        tool_call("c6", "f"),
        session_id="s1",
    ))
    row = session_row(con, "s1")
    assert row["longest_autonomy_run"] == 3
    assert row["share_steps_without_human"] == pytest.approx(1 - 3 / 6)


def test_oversight_counts_approvals_by_tool_call_id():
    con = run_metrics(session(
        "deployer",
        user("ship it"),
        tool_call("c1", "deploy", {"env": "prod"}), signed("c1", "deploy", {"env": "prod"}),
        tool_call("c2", "deploy", {"env": "prod"}), signed("other-call", "deploy", {"env": "prod"}),
        tool_call("c3", "bash", {"cmd": "rm -rf /var/lib/app"}),
        tool_call("c4", "bash", {"cmd": "chmod 777 /srv"}),
        tool_call("c5", "read_file", {"path": "/srv/a"}),
        session_id="s1",
    ), agents=[DEPLOYER])
    row = session_row(con, "s1")
    assert (row["count_sensitive_actions"], row["count_approved_sensitive_actions"]) == (4, 1)
    assert row["oversight_coverage"] == pytest.approx(1 / 4)
    assert row["count_approval_missing"] == 3
    assert (row["count_destructive_actions"], row["count_privilege_actions"]) == (1, 1)


def test_an_approval_logged_after_the_action_ran_is_no_oversight():
    con = run_metrics(session(
        "deployer",
        user("ship it"),
        tool_call("c1", "deploy", {"env": "prod"}), signed("c1", "deploy", {"env": "prod"}),
        tool_result("c1", "deployed"),
        tool_call("c2", "deploy", {"env": "prod"}), tool_result("c2", "deployed"),
        signed("c2", "deploy", {"env": "prod"}),
        session_id="s1",
    ), agents=[DEPLOYER])
    row = session_row(con, "s1")
    assert (row["count_sensitive_actions"], row["count_approved_sensitive_actions"]) == (2, 1)
    assert row["count_approval_after_the_fact"] == 1


def test_telemetry_looks_for_reasoning_and_tokens_in_the_calls_turn():
    con = run_metrics(session(
        "a1",
        user("go"),
        reasoning("first", output_tokens=5),
        tool_call("c1", "a"), tool_call("c2", "b"),  # same turn: both have reasoning and tokens
        tool_result("c1", "ok"), tool_result("c2", "ok"),
        tool_call("c3", "c", input_tokens=3),  # new turn: no reasoning; no result follows
        session_id="s1",
    ))
    row = session_row(con, "s1")
    assert row["telemetry_coverage"] == pytest.approx(2 / 3)
    assert row["share_calls_with_reasoning"] == pytest.approx(2 / 3)
    assert row["share_calls_with_tokens"] == 1.0
    assert row["share_calls_with_result"] == pytest.approx(2 / 3)


def test_delegation_tree():
    root = session("a1", user("split the work"), spawn("child"), tool_call("c1", "spawn_agent", {"task": "x"}),
                   session_id="root")
    child = session("a2", user("do x"), spawn("grandchild"), session_id="child", parent_session_id="root")
    grandchild = session("a3", user("do y"), session_id="grandchild", parent_session_id="child")
    con = run_metrics(root, child, grandchild)
    got = rows(con, """
        select session_id, count_spawned, count_child_sessions, count_descendant_sessions, spawn_depth,
            spawn_tree_height, in_spawn_cycle
        from sessions order by spawn_depth""")
    assert got == [
        {"session_id": "root", "count_spawned": 1, "count_child_sessions": 1, "count_descendant_sessions": 2,
         "spawn_depth": 0, "spawn_tree_height": 2, "in_spawn_cycle": False},
        {"session_id": "child", "count_spawned": 1, "count_child_sessions": 1, "count_descendant_sessions": 1,
         "spawn_depth": 1, "spawn_tree_height": 1, "in_spawn_cycle": False},
        {"session_id": "grandchild", "count_spawned": 0, "count_child_sessions": 0, "count_descendant_sessions": 0,
         "spawn_depth": 2, "spawn_tree_height": 0, "in_spawn_cycle": False},
    ]


def test_a_spawn_cycle_in_hostile_data_ends_and_is_marked():
    a = session("a1", user("x"), session_id="a", parent_session_id="b")
    b = session("a1", user("y"), session_id="b", parent_session_id="a")
    con = run_metrics(a, b)
    row = session_row(con, "a")
    assert row["in_spawn_cycle"] is True
    assert row["spawn_depth"] == 32


def test_tool_loops_repeat_equivalent_arguments():
    con = run_metrics(session(
        "a1",
        tool_call("c1", "fetch", '{"url": "https://x.example/a"}'),
        tool_call("c2", "fetch", '{"url":"https://x.example/a"}'),
        tool_call("c3", "fetch", '{"URL": "https://X.example/a"}'),
        tool_call("c4", "fetch", '{"url": "https://x.example/b"}'),
        tool_call("c5", "read", '{"url": "https://x.example/b"}'),
        session_id="s1",
    ))
    row = session_row(con, "s1")
    assert (row["max_tool_repeat"], row["count_repeated_tool_calls"]) == (3, 2)


def test_errors_and_hostile_text_flags():
    con = run_metrics(session(
        "a1",
        user("go", flags=["invisible_unicode"]),
        tool_call("c1", "fetch"),
        tool_result("c1", "boom", status="error", flags=["injection_phrase", "markdown_link_payload"]),
        tool_result("c1", "again", flags=["injection_phrase"]),
        error("runtime crashed"),
        session_id="s1",
    ))
    row = session_row(con, "s1")
    assert (row["count_errors"], row["count_tool_errors"]) == (2, 1)
    assert (row["count_flag_injection_phrase"], row["count_flag_invisible_unicode"]) == (2, 1)
    assert (row["count_flag_markdown_link_payload"], row["count_flag_ansi_escape"]) == (1, 0)
    assert row["count_flagged_events"] == 3
    assert row["flag_counts"] == {"injection_phrase": 2, "invisible_unicode": 1, "markdown_link_payload": 1}


def test_no_events_build_empty_outputs():
    con = run_metrics()
    assert rows(con, "select count(*) as n from sessions") == [{"n": 0}]
    assert rows(con, "select count(*) as n from steps") == [{"n": 0}]
    columns = {r["column_name"] for r in rows(con, "select column_name from (describe sessions)")}
    assert {"goal_drift_level", "oversight_coverage", "count_untrusted_sink_calls"} <= columns
