"""The built-in rule catalog: every rule's samples fire or stay silent through the real pipeline
(events -> metrics build -> detector SQL), ids are unique, metadata is complete."""

from __future__ import annotations

import pytest

from agentwatch.detectors.detect.rule_tests import run_samples
from agentwatch.detectors.detect.rules import BUILTIN_RULES_DIR, LEVELS, load_rules

RULES = load_rules([BUILTIN_RULES_DIR])
OUTCOMES = run_samples(RULES)


@pytest.mark.parametrize("outcome", OUTCOMES, ids=lambda o: f"{o.rule_id}:{o.expect}:{o.name}")
def test_each_sample_fires_or_stays_silent(outcome):
    assert outcome.ok, f"{outcome.rule_id} must {outcome.expect} on {outcome.name!r} ({outcome.where})"


def test_every_rule_has_samples_both_ways_and_complete_metadata():
    by_rule = {}
    for o in OUTCOMES:
        by_rule.setdefault(o.rule_id, set()).add(o.expect)
    assert by_rule == {r.id: {"fire", "silent"} for r in RULES}
    for rule in RULES:
        assert rule.level in LEVELS
        assert rule.references and rule.falsepositives and rule.description
        assert any(t.startswith("pattern.") for t in rule.tags)


def test_ids_are_unique_and_the_catalog_covers_the_practitioner_patterns():
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert {
        "sensitive-read-then-egress", "untrusted-content-then-risky-action", "credential-solicitation",
        "injection-then-action", "agent-self-modification", "permission-mode-bypass", "unofficial-extension-install",
        "download-and-execute", "destructive-on-production", "destructive-outside-worktree", "mass-deletion",
        "force-push", "infra-destroy", "privilege-escalation", "disable-logging", "unapproved-required-action",
        "runaway-delegation", "tool-loop", "ransom-artifact",
    } <= set(ids)


def test_normal_work_stays_quiet_for_every_rule():
    # deleting a build folder, running the tests, committing and pushing a feature branch
    normal = {"events": [
        {"user": "Clean the build, run the tests, then commit and push the fix"},
        {"call": {"tool": "Bash", "args": {"command": "rm -rf build/"}}}, {"result": ""},
        {"call": {"tool": "Bash", "args": {"command": "pytest -q"}}}, {"result": "42 passed"},
        {"call": {"tool": "Bash", "args": {"command": "git commit -am 'Fix retry timeout'"}}},
        {"result": "[fix/x 1a2b]"},
        {"call": {"tool": "Bash", "args": {"command": "git push origin fix/retry-timeout"}}}, {"result": "ok"},
    ]}
    probes = [type(r)(**{**vars(r), "samples": {"fire": [normal], "silent": [normal]}}) for r in RULES]
    fired = {o.rule_id for o in run_samples(probes) if o.expect == "fire" and o.fired}
    assert fired == set()
