"""The verification rules: their samples fire and stay silent; on the sample fleet they put the outcome
in the reasons of the forged-approval and unapproved-action sessions, end to end through the lake."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from agentwatch.detectors.detect.rule_tests import run_samples
from agentwatch.detectors.detect.rules import BUILTIN_RULES_DIR, load_rule
from agentwatch.detectors.detect.run import run_detect
from agentwatch.detectors.escalate.playbooks import load_playbooks
from agentwatch.detectors.escalate.run import run_escalations
from agentwatch.detectors.metrics.run import run_metrics
from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.inventory import load_inventory
from agentwatch.lake import Lake
from tests.detectors.escalate.escalation_support import http_receiver
from tests.support.paths import SAMPLE

RULES = ("approval-invalid-signature", "approval-unknown-key", "approval-summary-mismatch",
         "approval-after-the-fact", "approval-missing")
NOW = datetime(2026, 11, 24, tzinfo=UTC)


def test_every_verification_rule_fires_and_stays_silent_on_its_samples():
    rules = [load_rule(BUILTIN_RULES_DIR / f"{rule_id}.yml") for rule_id in RULES]
    outcomes = run_samples(rules)
    assert {o.rule_id for o in outcomes if o.expect == "fire"} == set(RULES)
    assert [(o.rule_id, o.name) for o in outcomes if not o.ok] == []


@pytest.fixture(scope="module")
def sample_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("lake")
    ingest_paths(lake, [SAMPLE], now=NOW)
    run_metrics(lake, load_inventory(SAMPLE / "agents.yaml"))
    run_detect(lake, now=NOW)
    return lake


def reasons_by_scenario(lake: Path, scenario: str) -> list[set[str]]:
    """The rule ids among the reasons of each root session of a scenario."""
    found = Lake(lake).connect(hardened=False).execute("""
        select list_distinct([r.id for r in reasons if r.kind = 'rule'])
        from sessions join read_csv(?) as labels using (session_id)
        where labels.scenario = ? and sessions.spawn_depth = 0
    """, [str(SAMPLE / "labels.csv"), scenario]).fetchall()
    return [set(ids or ()) for (ids,) in found]


def test_sample_forged_approvals_are_in_the_session_reasons(sample_lake):
    found = reasons_by_scenario(sample_lake, "forged_approval")
    assert len(found) == 3 and all("approval-invalid-signature" in ids for ids in found)


def test_sample_unapproved_actions_are_in_the_session_reasons(sample_lake):
    found = reasons_by_scenario(sample_lake, "unapproved_action")
    assert len(found) == 2 and all("approval-missing" in ids for ids in found)


def test_normal_sample_sessions_never_fire_a_verification_rule(sample_lake):
    assert not any(ids & set(RULES) for ids in reasons_by_scenario(sample_lake, "normal"))


def test_the_nightly_chain_pages_each_forged_approval_once(sample_lake, tmp_path):
    books = tmp_path / "playbooks.yml"
    with http_receiver() as receiver:
        books.write_text("playbooks:\n  - id: forged\n    match: {rules: [approval-invalid-signature]}\n"
                         f"    actions: [webhook: {{url: '{receiver.url}', format: json}}]\n")
        first = run_escalations(sample_lake, load_playbooks(books, {}), now=NOW)
        second = run_escalations(sample_lake, load_playbooks(books, {}), now=NOW)
    keys = [b["dedup_key"] for b in receiver.bodies()]
    assert len(keys) == len(set(keys)) == first.count_ok >= 3
    assert second.count_due == 0
    assert all("approval-invalid-signature" in b["alert"]["rule_ids"] for b in receiver.bodies())
