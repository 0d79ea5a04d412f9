"""Golden rows of the intermediate models about sessions, events and calls: int_sessions, int_events,
int_approvals, int_calls, int_entity_flow, int_spawn_tree."""

from __future__ import annotations

from datetime import date, timedelta

from agentwatch.detectors.metrics.models import read_model
from tests.detectors.metrics.metrics_support import rows, run_metrics
from tests.detectors.metrics.model_stories import DEPLOY_SUMMARY, OPS, hijacked_deploy, table_rows
from tests.support.builders import START, response, session, tool_call, user


def test_int_sessions_places_each_session_in_its_agents_history_and_marks_targets_and_context():
    def one(agent_id: str, session_id: str, day: int, prompts: int = 1) -> list[dict]:
        return session(agent_id, *[user("go")] * prompts, session_id=session_id, start=START + timedelta(days=day))

    con = run_metrics(one("ops", "a", 0), one("ops", "b", 1, prompts=2), one("ops", "c", 3), one("dev", "d", 3),
                      baseline_days=2, sessions_filter=[("ops", "c")])
    got = rows(con, """
        select session_id, session_key, agent_key, count_events, session_day, baseline_session_count,
            is_requested_target, is_requested_context, is_target, is_context
        from int_sessions order by session_key
    """)
    day = date(2026, 3, 2)
    assert got == [
        # dense keys in (agent_id, session_id) order; c's window is days 1..2: b is its baseline and context
        {"session_id": "d", "session_key": 1, "agent_key": 1, "count_events": 1, "session_day": day + timedelta(3),
         "baseline_session_count": 0, "is_requested_target": False, "is_requested_context": False,
         "is_target": False, "is_context": False},
        {"session_id": "a", "session_key": 2, "agent_key": 2, "count_events": 1, "session_day": day,
         "baseline_session_count": 0, "is_requested_target": False, "is_requested_context": False,
         "is_target": False, "is_context": False},
        {"session_id": "b", "session_key": 3, "agent_key": 2, "count_events": 2, "session_day": day + timedelta(1),
         "baseline_session_count": 1, "is_requested_target": False, "is_requested_context": True,
         "is_target": False, "is_context": True},
        {"session_id": "c", "session_key": 4, "agent_key": 2, "count_events": 1, "session_day": day + timedelta(3),
         "baseline_session_count": 1, "is_requested_target": True, "is_requested_context": True,
         "is_target": True, "is_context": True},
    ]


def test_int_events_orders_counts_turns_and_classifies_each_event():
    con = run_metrics(hijacked_deploy(), agents=[OPS])
    got = rows(con, """
        select step_index, event_type, prompt_index, human_turn_index, turn_index, tool_category, is_sink,
            list_sort(list_transform(entities, lambda e: e.kind || ':' || e.value)) as entities,
            list_sort(tokens) as tokens
        from int_events order by step_index
    """)
    columns = ("step_index", "event_type", "prompt_index", "human_turn_index", "turn_index", "tool_category",
               "is_sink", "entities", "tokens")
    expected = [
        (1, "user_prompt", 1, 1, 1, None, False, [], ["app", "deploy", "staging"]),
        (2, "reasoning", 1, 1, 1, None, False, [], ["checking", "config"]),
        (3, "tool_call", 1, 1, 1, "read", False, ["path:/srv/app/config.yml"],
         ["app", "config", "file", "read", "srv", "yml"]),
        (4, "tool_result", 1, 1, 2, None, False, ["host:evil.example.net"], None),
        (5, "tool_call", 1, 1, 2, "write", True, [], ["deploy", "staging"]),
        (6, "approval", 1, 2, 2, None, False, [], None),
        (7, "tool_result", 1, 2, 3, None, False, [], None),
        (8, "tool_call", 1, 2, 3, "network", True, ["host:evil.example.net"],
         ["evil", "example", "http", "https", "net", "post", "up"]),
        (9, "tool_result", 1, 2, 4, None, False, [], None),
        (10, "llm_response", 1, 2, 4, None, False, [], ["done"]),
    ]
    assert got == [dict(zip(columns, row, strict=True)) for row in expected]


def test_int_events_counts_a_claude_code_messages_final_usage_once():
    # one streamed response written as three records: the first carries a partial usage (3 output
    # tokens), the last two the final one (172); then a one-record response
    m1 = {"message": {"id": "m1"}}
    con = run_metrics(session(
        "claude",
        user("go"),
        response("part one", input_tokens=16208, output_tokens=3, attrs=m1),
        tool_call("c1", "Glob", {"pattern": "*"}, input_tokens=16208, output_tokens=172, attrs=m1),
        tool_call("c2", "Glob", {"pattern": "src/*"}, input_tokens=16208, output_tokens=172, attrs=m1),
        response("next", input_tokens=2, output_tokens=9, attrs={"message": {"id": "m2"}}),
    ))
    got = rows(con, "select step_index, is_repeated_usage from int_events order by step_index")
    assert [r["is_repeated_usage"] for r in got] == [False, True, True, False, False]
    sums = rows(con, "select sum_input_tokens, sum_output_tokens from sessions")
    assert sums == [{"sum_input_tokens": 16208 + 2, "sum_output_tokens": 172 + 9}]


def test_int_approvals_lists_each_approval_with_the_call_it_names():
    con = run_metrics(hijacked_deploy(), agents=[OPS])
    got = rows(con, f"select * exclude (signature) from ({read_model('int_approvals')})")
    assert got == [{
        "agent_id": "ops", "session_id": "s1", "tool_call_id": "c2", "event_id": "s1-6",
        # linked events only (calls, results, approvals with a tool_call_id): c1, c1, c2, this one
        "position": 4, "key_id": "alice-2026", "summary": DEPLOY_SUMMARY,
        "call_tool_name": "deploy", "call_tool_args": '{"target":"staging"}', "has_call": True,
        "is_after_result": False,
    }]


def test_int_calls_judges_oversight_telemetry_and_repetition_per_call():
    signed_ok = run_metrics(hijacked_deploy(), agents=[OPS])
    forged = run_metrics(hijacked_deploy(forged=True), agents=[OPS])
    columns = ("is_sensitive, has_approval, approval_step_index, approval_key_id, approval_outcome, has_result, "
               "has_reasoning, has_token_usage, repeat_count, is_repeat_call")
    got = table_rows(signed_ok, "int_calls", f"step_index, {columns}", "step_index")
    names = ("session_id", "step_index", *columns.split(", "))
    expected = [
        # c1: its turn (since the prompt) has reasoning with tokens
        ("s1", 3, False, False, None, None, None, True, True, True, 1, False),
        # c2: deploy needs approval; Alice signed it before its result
        ("s1", 5, True, True, 6, "alice-2026", "approved", True, False, True, 1, False),
        # c3: nothing in its turn but the call; no tokens
        ("s1", 8, False, False, None, None, None, True, False, False, 1, False),
    ]
    assert got == [dict(zip(names, row, strict=True)) for row in expected]
    (deploy,) = table_rows(forged, "int_calls", "has_approval, approval_outcome", "step_index limit 1 offset 1")
    assert deploy == {"session_id": "s1", "has_approval": True, "approval_outcome": "invalid_signature"}


def test_int_entity_flow_marks_the_sink_call_steered_by_a_tool_result():
    con = run_metrics(hijacked_deploy(), agents=[OPS])
    got = table_rows(con, "int_entity_flow", "step_index, untrusted_entities, has_untrusted_out_of_scope",
                     "step_index")
    assert got == [{"session_id": "s1", "step_index": 8,
                    "untrusted_entities": [{"kind": "host", "value": "evil.example.net"}],
                    "has_untrusted_out_of_scope": True}]


def test_int_spawn_tree_measures_depth_height_and_cycles():
    def child(session_id: str, parent: str | None) -> list[dict]:
        return session("ops", user("go"), session_id=session_id, parent_session_id=parent)

    con = run_metrics(child("root", None), child("kid", "root"), child("grandkid", "kid"),
                      child("x", "y"), child("y", "x"))
    got = table_rows(con, "int_spawn_tree", "spawn_depth, spawn_tree_height, count_child_sessions, "
                     "count_descendant_sessions, in_spawn_cycle", "int_sessions.session_id")
    names = ("session_id", "spawn_depth", "spawn_tree_height", "count_child_sessions",
             "count_descendant_sessions", "in_spawn_cycle")
    expected = [
        ("grandkid", 2, 0, 0, 0, False),
        ("kid", 1, 1, 1, 1, False),
        ("root", 0, 2, 1, 2, False),
        # a cycle is walked until max_spawn_depth (32) and says so
        ("x", 32, 32, 1, 2, True),
        ("y", 32, 32, 1, 2, True),
    ]
    assert got == [dict(zip(names, row, strict=True)) for row in expected]
