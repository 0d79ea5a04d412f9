"""Playbook files: what they match, and every mistake named by file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentwatch.detectors.escalate.playbooks import PAGERDUTY_URL, load_playbooks
from agentwatch.errors import ConfigError
from tests.detectors.escalate.escalation_support import alert

ENV = {"PD_KEY": "R0UTINGKEY", "SLACK_URL": "https://hooks.slack.example/T/B/x", "HOOK_TOKEN": "Bearer t0k"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "playbooks.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_file_loads_with_secrets_from_the_environment(tmp_path):
    path = write(tmp_path, """
playbooks:
  - id: page-critical
    match: {levels: [critical], agents: ["cicd-*"]}
    actions:
      - id: page
        webhook: {format: pagerduty, routing_key_env: PD_KEY}
      - webhook: {url_env: SLACK_URL, format: slack}
      - webhook:
          url: "https://hooks.example.com/aw"
          headers: {X-Team: secops}
          headers_env: {Authorization: HOOK_TOKEN}
      - command: {argv: [/bin/true], timeout_s: 5}
        attempts: 1
      - pause: {}
""")
    (book,) = load_playbooks(path, ENV).playbooks
    assert [a.action_id for a in book.actions] == ["page", "webhook-2", "webhook-3", "command-4", "pause-5"]
    page, slack, hook, command, _ = book.actions
    assert (page.options["url"], page.options["routing_key"]) == (PAGERDUTY_URL, "R0UTINGKEY")
    assert slack.options["url"] == ENV["SLACK_URL"]
    assert hook.options["headers"] == {"X-Team": "secops", "Authorization": "Bearer t0k"}
    assert (command.options["argv"], command.options["timeout_s"], command.attempts) == (("/bin/true",), 5.0, 1)
    assert "R0UTINGKEY" not in repr(page)


def test_match_conditions_are_anded_and_missing_ones_match_all(tmp_path):
    path = write(tmp_path, """
playbooks:
  - {id: all, actions: [pause: {}]}
  - id: narrow
    match: {levels: [high, critical], rules: [forged-approval, db-wipe], agents: ["cicd-*"]}
    actions: [pause: {}]
""")
    books = load_playbooks(path, ENV)
    due = lambda a: [p.playbook_id for p, _ in books.due(a)]  # noqa: E731
    assert due(alert("k1")) == ["all", "narrow"]
    assert due(alert("k2", level="medium")) == ["all"]
    assert due(alert("k3", rule_ids=("tool-loop",))) == ["all"]
    assert due(alert("k4", agent_id="support-agent")) == ["all"]
    assert due(alert("k5", rule_ids=("tool-loop", "db-wipe"))) == ["all", "narrow"]


@pytest.mark.parametrize(("text", "message", "where"), [
    ("playbooks: {}", "top-level list `playbooks`", ""),
    ("playbooks:\n  - {id: a, actions: [pause: {}], when: x}", "unknown keys ['when']", "playbooks[0]"),
    ("playbooks:\n  - {id: 'a b', actions: [pause: {}]}", "must be an id", "playbooks[0].id"),
    ("playbooks:\n  - {id: a, actions: []}", "non-empty list", "playbooks[0] (a).actions"),
    ("playbooks:\n  - {id: a, match: {levels: [urgent]}, actions: [pause: {}]}", "unknown levels ['urgent']",
     "playbooks[0] (a).match.levels"),
    ("playbooks:\n  - {id: a, actions: [{pause: {}, command: {argv: [x]}}]}", "exactly one of",
     "playbooks[0] (a).actions[0]"),
    ("playbooks:\n  - {id: a, actions: [webhook: {format: pagerduty, routing_key: abc}]}",
     "secrets never live in the file", "playbooks[0] (a).actions[0].webhook.routing_key"),
    ("playbooks:\n  - {id: a, actions: [webhook: {url: 'https://x', headers: {Authorization: abc}}]}",
     "carries a credential", "playbooks[0] (a).actions[0].webhook.headers"),
    ("playbooks:\n  - {id: a, actions: [webhook: {format: pagerduty, routing_key_env: NOPE}]}",
     "environment variable NOPE is not set", "playbooks[0] (a).actions[0].webhook.routing_key_env"),
    ("playbooks:\n  - {id: a, actions: [webhook: {format: pagerduty}]}", "needs `routing_key_env`",
     "playbooks[0] (a).actions[0].webhook.routing_key_env"),
    ("playbooks:\n  - {id: a, actions: [webhook: {url: 'file:///etc/passwd'}]}", "http(s) `url`",
     "playbooks[0] (a).actions[0].webhook.url"),
    ("playbooks:\n  - {id: a, actions: [webhook: {url: 'https://x', format: xml}]}", "unknown format 'xml'",
     "playbooks[0] (a).actions[0].webhook.format"),
    ("playbooks:\n  - {id: a, actions: [command: {argv: 'rm -rf /'}]}", "non-empty list of strings",
     "playbooks[0] (a).actions[0].command.argv"),
    ("playbooks:\n  - {id: a, actions: [command: {argv: [x], timeout_s: soon}]}", "number of seconds",
     "playbooks[0] (a).actions[0].command.timeout_s"),
    ("playbooks:\n  - {id: a, actions: [{pause: {}, attempts: 0}]}", "from 1 to 20",
     "playbooks[0] (a).actions[0].attempts"),
    ("playbooks:\n  - {id: a, actions: [{id: p, pause: {}}, {id: p, pause: {}}]}", "unique",
     "playbooks[0] (a).actions"),
    ("playbooks:\n  - {id: a, actions: [pause: {}]}\n  - {id: a, actions: [pause: {}]}", "duplicate playbook id",
     "playbooks"),
    ("playbooks: [", "cannot read playbooks", ""),
])
def test_mistakes_name_the_file_and_the_key(tmp_path, text, message, where):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_playbooks(path, ENV)
    assert message in caught.value.message
    assert caught.value.where == (f"{path}: {where}" if where else str(path))


def test_a_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read playbooks"):
        load_playbooks(tmp_path / "none.yml", ENV)
