"""What the receivers get, checked against the Slack incoming-webhook and PagerDuty Events API v2 shapes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import orjson
import pytest

from agentwatch.detectors.escalate.actions import pagerduty_payload
from agentwatch.detectors.escalate.playbooks import load_playbooks
from agentwatch.detectors.escalate.run import run_escalations
from tests.detectors.escalate.escalation_support import NOW, alert, http_receiver, write_alerts

# Events API v2 (POST /v2/enqueue): the event's fields, and the fields of its `payload`
PAGERDUTY_EVENT_KEYS = {"routing_key", "event_action", "dedup_key", "payload", "images", "links", "client",
                        "client_url"}
PAGERDUTY_PAYLOAD_KEYS = {"summary", "source", "severity", "timestamp", "component", "group", "class", "custom_details"}
PAGERDUTY_SEVERITIES = {"critical", "error", "warning", "info"}
# Incoming webhooks: a message's top-level fields we may send, and the block and text object types used
SLACK_MESSAGE_KEYS = {"text", "blocks", "attachments", "mrkdwn", "unfurl_links", "unfurl_media", "thread_ts"}
HOSTILE = "<https://evil.example/?q=x|click here> <!channel> *now* \x1b[31mred\u202e"


def deliver(tmp_path: Path, lake: Path, action: str, env: dict[str, str], *alerts: dict) -> list[dict]:
    write_alerts(lake, *alerts)
    with http_receiver() as receiver:
        path = tmp_path / "playbooks.yml"
        path.write_text("playbooks:\n  - id: page\n    actions:\n      - " + action.format(url=receiver.url),
                        encoding="utf-8")
        assert run_escalations(lake, load_playbooks(path, env), now=NOW).count_ok == len(alerts)
    return receiver.posts


def check_pagerduty_event(event: dict) -> None:
    assert set(event) <= PAGERDUTY_EVENT_KEYS
    assert event["event_action"] == "trigger"
    assert isinstance(event["routing_key"], str) and event["routing_key"]
    assert isinstance(event["dedup_key"], str) and 0 < len(event["dedup_key"]) <= 255
    payload = event["payload"]
    assert set(payload) <= PAGERDUTY_PAYLOAD_KEYS
    assert {"summary", "source", "severity"} <= set(payload)
    assert 0 < len(payload["summary"]) <= 1024 and payload["source"]
    assert payload["severity"] in PAGERDUTY_SEVERITIES
    datetime.fromisoformat(payload["timestamp"])
    assert isinstance(payload["custom_details"], dict)


def check_slack_message(message: dict) -> None:
    assert set(message) <= SLACK_MESSAGE_KEYS
    assert isinstance(message["text"], str) and message["text"]
    for block in message["blocks"]:
        assert block["type"] in ("section", "context")
        texts = [block["text"]] if block["type"] == "section" else block["elements"]
        for text in texts:
            assert text["type"] == "plain_text"  # never mrkdwn: alert text is attacker-influenced
            assert 0 < len(text["text"]) <= 3000


def test_pagerduty_gets_an_events_v2_trigger_with_the_alert_key_as_dedup_key(tmp_path, lake):
    action = "webhook: {{url: '{url}', format: pagerduty, routing_key_env: PD_KEY}}\n"
    posts = deliver(tmp_path, lake, action, {"PD_KEY": "R0UTING-KEY-FROM-ENV"}, alert("k1"), alert("k2", level="low"))
    events = [orjson.loads(p["body"]) for p in posts]
    for event in events:
        check_pagerduty_event(event)
    assert [e["dedup_key"] for e in events] == ["k1", "k2"]
    assert [e["payload"]["severity"] for e in events] == ["critical", "info"]
    assert {e["routing_key"] for e in events} == {"R0UTING-KEY-FROM-ENV"}
    stored = b"".join(p.read_bytes() for p in lake.rglob("*") if p.is_file())
    assert b"R0UTING-KEY-FROM-ENV" not in stored  # the secret is sent, never recorded


@pytest.mark.parametrize(("level", "severity"), [("critical", "critical"), ("high", "error"),
                                                 ("medium", "warning"), ("low", "info")])
def test_pagerduty_severity_follows_the_alert_level(level, severity):
    event = pagerduty_payload(alert("k", level=level, title="x" * 5000), "rk")
    check_pagerduty_event(event)
    assert event["payload"]["severity"] == severity
    assert len(event["payload"]["summary"]) == 1024


def test_slack_gets_plain_text_with_links_and_mentions_defused(tmp_path, lake):
    posts = deliver(tmp_path, lake, "webhook: {{url: '{url}', format: slack}}\n", {}, alert("k1", title=HOSTILE))
    message = orjson.loads(posts[0]["body"])
    check_slack_message(message)
    assert message["mrkdwn"] is False and message["unfurl_links"] is False
    assert "<" not in message["text"] and "&lt;https://evil.example" in message["text"]
    assert "&lt;!channel&gt;" in message["text"]
    rendered = message["text"] + "".join(b["text"]["text"] for b in message["blocks"] if b["type"] == "section")
    assert "\x1b" not in rendered and "\u202e" not in rendered
    assert "dedup_key k1" in message["blocks"][-1]["elements"][0]["text"]


def test_json_webhook_carries_the_alert_and_secret_headers_from_the_environment(tmp_path, lake):
    action = ("webhook: {{url: '{url}', headers: {{X-Team: secops}}, "
              "headers_env: {{Authorization: HOOK_TOKEN}}}}\n")
    posts = deliver(tmp_path, lake, action, {"HOOK_TOKEN": "Bearer s3cret"}, alert("k1"))
    body = orjson.loads(posts[0]["body"])
    assert (body["dedup_key"], body["playbook_id"], body["action_id"]) == ("k1", "page", "webhook-1")
    assert body["alert"]["alert_key"] == "k1" and body["alert"]["rule_ids"] == ["forged-approval"]
    assert datetime.fromisoformat(body["alert"]["first_seen_at"]) == NOW
    headers = posts[0]["headers"]
    assert (headers["Authorization"], headers["X-Team"], headers["Content-Type"]) == (
        "Bearer s3cret", "secops", "application/json")
