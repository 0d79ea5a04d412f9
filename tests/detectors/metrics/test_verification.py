"""Verification: each approval outcome, how a summary is matched to its action, and the sample fleet."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agentwatch.detectors.metrics.models import build_metrics
from agentwatch.detectors.metrics.verification import (
    judge_approval,
    summarize_action,
    summary_matches,
    verify_approvals,
)
from agentwatch.errors import ConfigError
from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.inventory import load_inventory
from agentwatch.lake import Lake
from tests.detectors.metrics.approval_support import ALICE_KEYS, MALLORY, sign, signed
from tests.detectors.metrics.metrics_support import agent, rows, run_metrics, session_row
from tests.support.builders import approval, session, tool_call, tool_result, user
from tests.support.paths import SAMPLE

DEPLOYER = agent("deployer", approval_required=["deploy"], approval_keys=ALICE_KEYS)
PUSH = {"repo": "acme/api", "branch": "fix/timeout", "commits": 1}


def outcome_of(*steps: dict, agents=(DEPLOYER,)) -> list:
    """approval_outcome of each tool call of one deployer session."""
    con = run_metrics(session("deployer", user("ship it"), *steps, session_id="s1"), agents=agents)
    found = rows(con, "select approval_outcome from steps where event_type = 'tool_call' order by step_index")
    return [r["approval_outcome"] for r in found]


def test_a_signed_matching_approval_before_the_action_is_approved():
    assert outcome_of(tool_call("c1", "deploy", PUSH), signed("c1", "deploy", PUSH), tool_result("c1", "ok")) \
        == ["approved"]


def test_a_sensitive_action_without_an_approval_is_missing():
    assert outcome_of(tool_call("c1", "deploy", PUSH), tool_result("c1", "ok")) == ["missing"]


def test_an_approval_of_another_call_id_leaves_the_action_missing():
    assert outcome_of(tool_call("c1", "deploy", PUSH), signed("c2", "deploy", PUSH), tool_result("c1", "ok")) \
        == ["missing"]


def test_a_signature_by_a_key_other_than_the_listed_one_is_invalid():
    forged = signed("c1", "deploy", PUSH, key=MALLORY)  # claims alice-2026, signed by someone else
    assert outcome_of(tool_call("c1", "deploy", PUSH), forged, tool_result("c1", "ok")) == ["invalid_signature"]


def test_a_real_signature_of_another_summary_replayed_is_invalid():
    replayed = approval("c1", key_id="alice-2026", summary=summarize_action("deploy", PUSH),
                        signature=sign("deploy(repo=acme/api, branch=fix/other, commits=1)"))
    assert outcome_of(tool_call("c1", "deploy", PUSH), replayed, tool_result("c1", "ok")) == ["invalid_signature"]


@pytest.mark.parametrize("signature", ["", "not base64!", "c2lnbmF0dXJl"])
def test_garbage_signatures_are_invalid(signature):
    bad = approval("c1", key_id="alice-2026", summary=summarize_action("deploy", PUSH), signature=signature)
    assert outcome_of(tool_call("c1", "deploy", PUSH), bad, tool_result("c1", "ok")) == ["invalid_signature"]


def test_a_key_the_inventory_does_not_list_is_unknown():
    stranger = signed("c1", "deploy", PUSH, key=MALLORY, key_id="mallory-2026")
    assert outcome_of(tool_call("c1", "deploy", PUSH), stranger, tool_result("c1", "ok")) == ["unknown_key"]


def test_another_agents_key_is_unknown_for_this_one():
    other = agent("deployer", approval_required=["deploy"])  # no keys of its own
    assert outcome_of(tool_call("c1", "deploy", PUSH), signed("c1", "deploy", PUSH), tool_result("c1", "ok"),
                      agents=[other, agent("other", approval_keys=ALICE_KEYS)]) == ["unknown_key"]


def test_a_genuine_approval_of_a_different_action_is_a_mismatch():
    # the human signed a push of fix/timeout; the agent force-pushed main under that approval
    forced = {"repo": "acme/api", "branch": "main", "commits": 1, "force": True}
    assert outcome_of(tool_call("c1", "deploy", forced), signed("c1", "deploy", PUSH), tool_result("c1", "ok")) \
        == ["summary_mismatch"]


def test_an_approval_after_the_result_is_after_the_fact():
    assert outcome_of(tool_call("c1", "deploy", PUSH), tool_result("c1", "ok"), signed("c1", "deploy", PUSH)) \
        == ["after_the_fact"]


def test_an_approval_of_a_call_with_no_result_yet_counts():
    assert outcome_of(tool_call("c1", "deploy", PUSH), signed("c1", "deploy", PUSH)) == ["approved"]


def test_one_good_approval_is_enough_and_a_forgery_outranks_a_late_sign_off():
    call = tool_call("c1", "deploy", PUSH)
    assert outcome_of(call, signed("c1", "deploy", PUSH, key=MALLORY), signed("c1", "deploy", PUSH),
                      tool_result("c1", "ok")) == ["approved"]
    assert outcome_of(call, signed("c1", "deploy", PUSH, key=MALLORY), tool_result("c1", "ok"),
                      signed("c1", "deploy", PUSH)) == ["invalid_signature"]


def test_non_sensitive_calls_have_no_outcome_and_coverage_counts_only_approved():
    con = run_metrics(session(
        "deployer", user("go"),
        tool_call("c1", "read_file", {"path": "/a"}), tool_result("c1", "x"),
        tool_call("c2", "deploy", PUSH), signed("c2", "deploy", PUSH), tool_result("c2", "ok"),
        tool_call("c3", "deploy", PUSH), signed("c3", "deploy", PUSH, key=MALLORY), tool_result("c3", "ok"),
        tool_call("c4", "deploy", PUSH), tool_result("c4", "ok"),
        session_id="s1"), agents=[DEPLOYER])
    row = session_row(con, "s1")
    assert (row["count_sensitive_actions"], row["count_approved_sensitive_actions"]) == (3, 1)
    assert row["oversight_coverage"] == pytest.approx(1 / 3)
    assert (row["count_approval_invalid_signature"], row["count_approval_missing"]) == (1, 1)
    assert (row["count_approval_unknown_key"], row["count_approval_summary_mismatch"],
            row["count_approval_after_the_fact"]) == (0, 0, 0)
    first = rows(con, "select approval_outcome from steps where step_index = 3")
    assert first == [{"approval_outcome": None}]


@pytest.mark.parametrize(("summary", "matches"), [
    ("git_push(repo=acme/api, branch=fix/timeout, commits=1)", True),
    ("git_push(repo='acme/api', branch='fix/timeout', commits=1)", True),  # quoting aside
    ("Git_Push( branch=fix/timeout, commits=1, repo=acme/api )", True),  # key order, case, spacing aside
    ("git_push(repo=acme/api, branch=fix/timeout)", False),  # an argument left out
    ("git_push(repo=acme/api, branch=main, commits=1)", False),
    ("push the timeout fix", False),  # free text names no action
    ("deploy(repo=acme/api, branch=fix/timeout, commits=1)", False),
])
def test_a_summary_matches_the_action_it_spells_out(summary, matches):
    assert summary_matches(summary, "git_push", '{"repo":"acme/api","branch":"fix/timeout","commits":1}') is matches


def test_nested_and_non_object_arguments_have_a_summary():
    assert summarize_action("apply", {"vars": {"min_size": 10}, "force": True}) == \
        'apply(vars={"min_size":10}, force=true)'
    assert summary_matches("apply(vars={'min_size': 10}, force=True)", "apply", '{"vars":{"min_size":10},"force":true}')
    assert summarize_action("bash", "ls -la") == "bash(ls -la)"
    assert summarize_action("ping", None) == "ping()"


def test_an_inventory_key_that_is_not_ed25519_is_a_config_error():
    bad = agent("deployer", approval_keys={"alice-2026": "not-a-key"})
    with pytest.raises(ConfigError, match=r"alice-2026.*in inventory: deployer.approval_keys"):
        verify_approvals([], {"deployer": bad})


@pytest.fixture(scope="module")
def sample_outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    lake = tmp_path_factory.mktemp("lake")
    ingest_paths(lake, [SAMPLE], now=datetime(2026, 11, 24, tzinfo=UTC))  # native and OTLP files
    con = Lake(lake).connect(hardened=False)
    build_metrics(con, load_inventory(SAMPLE / "agents.yaml"))
    found = con.execute("""
        select labels.scenario, list(distinct steps.approval_outcome)
        from steps join read_csv(?) as labels using (session_id)
        where steps.approval_outcome is not null
        group by all""", [str(SAMPLE / "labels.csv")]).fetchall()
    return {scenario: set(outcomes) for scenario, outcomes in found}


def test_sample_forged_approvals_are_invalid_signatures(sample_outcomes):
    assert sample_outcomes["forged_approval"] == {"invalid_signature"}


def test_sample_unapproved_actions_are_missing(sample_outcomes):
    assert sample_outcomes["unapproved_action"] == {"missing"}


def test_sample_normal_and_approved_hard_negatives_verify(sample_outcomes):
    for scenario in ("normal", "hard_negative_approved_migration", "hard_negative_new_payee"):
        assert sample_outcomes[scenario] == {"approved"}, scenario


@pytest.mark.parametrize(("fields", "outcome"), [
    ({"key_id": None}, "unknown_key"),
    ({"summary": None}, "invalid_signature"),
    ({"signature": None}, "invalid_signature"),
    ({"signature": " " + sign(summarize_action("deploy", PUSH)) + "\n"}, "invalid_signature"),  # not strict base64
    ({"summary": summarize_action("deploy", PUSH) + "\u202e"}, "invalid_signature"),  # an invisible change
    ({"call_tool_name": None, "call_tool_args": None}, "summary_mismatch"),  # names a call the session lacks
    ({"call_tool_args": "not json"}, "summary_mismatch"),
])
def test_hostile_approval_fields(fields, outcome):
    summary = summarize_action("deploy", PUSH)
    row = {"key_id": "alice-2026", "summary": summary, "signature": sign(summary), "call_tool_name": "deploy",
           "call_tool_args": '{"repo":"acme/api","branch":"fix/timeout","commits":1}', "is_after_result": False}
    assert judge_approval(row, ALICE_KEYS) == "approved"
    assert judge_approval({**row, **fields}, ALICE_KEYS) == outcome
