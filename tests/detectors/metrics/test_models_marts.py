"""Golden rows of the marts: `steps` (one row per event) and `sessions` (one row per session)."""

from __future__ import annotations

from agentwatch.ingest.sanitize.hostile import FLAG_NAMES
from tests.detectors.metrics.metrics_support import rows, run_metrics
from tests.detectors.metrics.model_stories import OPS, hijacked_deploy

# the hijacked deploy, whatever its approval: what every session row of it holds
DEPLOY_SESSION = {
    "count_events": 10, "count_user_prompts": 1, "count_tool_calls": 3, "count_tool_results": 3,
    "count_llm_responses": 1, "count_reasoning": 1, "count_approvals": 1, "count_errors": 0,
    "sum_input_tokens": 10, "sum_output_tokens": 1, "count_events_with_tokens": 2,
    "count_destructive_actions": 0, "count_network_calls": 1, "count_write_calls": 1,  # post, deploy
    "count_sink_calls": 2, "count_untrusted_sink_calls": 1, "count_untrusted_out_of_scope_sink_calls": 1,
    "count_untrusted_entities": 1, "count_sensitive_actions": 1, "count_approval_missing": 0,
    "telemetry_coverage": 1 / 3,  # only the read had reasoning, tokens and a result in its turn
    # runs between human turns: [read, deploy] after the prompt, [post] after the approval
    "longest_autonomy_run": 2, "share_steps_without_human": 1 - 2 / 3,
    # http_post only: the third of the segment's three calls (late = past ceil(3 / 2))
    "count_late_new_tools": 1,
    "count_distinct_resources": 2, "count_out_of_scope_resources": 1,
    "out_of_scope_resources": ["host:evil.example.net"], "count_tools_not_allowed": 1,  # http_post
    "count_spawned": 0, "spawn_depth": 0, "count_flag_injection_phrase": 1, "count_flagged_events": 1,
    "flag_counts": {"injection_phrase": 1}, "max_tool_repeat": 1,
}
APPROVAL_COLUMNS = ("count_approved_sensitive_actions", "oversight_coverage", "count_approval_invalid_signature")


def test_steps_carry_each_event_with_what_the_intermediate_models_found():
    con = run_metrics(hijacked_deploy(), agents=[OPS])
    got = rows(con, """
        select step_index, event_type, tool_category, is_sink, is_sensitive, approval_outcome,
            list_transform(resources, lambda r: r.kind || ':' || r.value) as resources,
            list_transform(untrusted_entities, lambda e: e.kind || ':' || e.value) as untrusted,
            has_untrusted_out_of_scope, goal_drift is not null as is_drift_scored
        from steps order by step_index
    """)
    names = ("step_index", "event_type", "tool_category", "is_sink", "is_sensitive", "approval_outcome",
             "resources", "untrusted", "has_untrusted_out_of_scope", "is_drift_scored")
    expected = [
        (1, "user_prompt", None, False, None, None, [], [], None, False),
        (2, "reasoning", None, False, None, None, [], [], None, True),
        (3, "tool_call", "read", False, False, None, ["path:/srv/app/config.yml"], [], None, True),
        (4, "tool_result", None, False, None, None, [], [], None, False),
        (5, "tool_call", "write", True, True, "approved", [], [], None, True),
        (6, "approval", None, False, None, None, [], [], None, False),
        (7, "tool_result", None, False, None, None, [], [], None, False),
        (8, "tool_call", "network", True, False, None, ["host:evil.example.net"], ["host:evil.example.net"],
         True, True),
        (9, "tool_result", None, False, None, None, [], [], None, False),
        (10, "llm_response", None, False, None, None, [], [], None, True),
    ]
    assert got == [dict(zip(names, row, strict=True)) for row in expected]
    assert "attrs" not in [r["column_name"] for r in rows(con, "describe steps")]


def test_sessions_sum_up_every_metric_and_count_only_verified_approvals():
    con = run_metrics(hijacked_deploy("forged", forged=True), hijacked_deploy("signed"), agents=[OPS])
    columns = ", ".join(("session_id", *DEPLOY_SESSION, *APPROVAL_COLUMNS))
    got = rows(con, f"select {columns} from sessions order by session_id")
    assert got == [
        # only a signature that verifies counts: the forged approval leaves the deploy unsupervised
        {"session_id": "forged", **DEPLOY_SESSION, **dict(zip(APPROVAL_COLUMNS, (0, 0.0, 1), strict=True))},
        {"session_id": "signed", **DEPLOY_SESSION, **dict(zip(APPROVAL_COLUMNS, (1, 1.0, 0), strict=True))},
    ]


def test_sessions_have_a_count_for_every_hostile_text_flag_ingest_raises():
    con = run_metrics(hijacked_deploy(), agents=[OPS])
    columns = {r["column_name"] for r in rows(con, "describe sessions")}
    assert {f"count_flag_{name}" for name in FLAG_NAMES} <= columns
