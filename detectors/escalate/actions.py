"""What one escalation action does to one alert: the payloads (json, Slack incoming webhook,
PagerDuty Events API v2), the HTTP POST, and the command run with the alert as JSON on stdin.

Every payload carries the alert's stable key as its dedup key (`dedup_key`; PagerDuty merges
triggers with the same `dedup_key` into one incident), so an action repeated after a crash never
opens a second incident. Alert text is attacker-influenced: Slack gets it as plain text with
formatting, link parsing and unfurling off.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson

from agentwatch.inert import inert_text

# Alert level -> PagerDuty Events v2 severity (critical, error, warning, info).
PAGERDUTY_SEVERITY = {"critical": "critical", "high": "error", "medium": "warning", "low": "info"}
DETAIL_CHARS = 500
USER_AGENT = "agentwatch-escalate/1"


@dataclass(frozen=True)
class Attempt:
    """How one attempt ended; `retryable` says whether trying again can help."""

    ok: bool
    detail: str
    retryable: bool = True


def alert_document(alert: Mapping[str, Any]) -> dict[str, Any]:
    """The alert as JSON-ready data (timestamps as ISO-8601)."""
    return {key: _jsonable(value) for key, value in alert.items()}


def json_payload(alert: Mapping[str, Any], playbook_id: str, action_id: str) -> dict[str, Any]:
    """agentwatch's own webhook body: the alert, its dedup key and which action sent it."""
    return {"dedup_key": alert["alert_key"], "playbook_id": playbook_id, "action_id": action_id,
            "alert": alert_document(alert)}


def slack_payload(alert: Mapping[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook message: fallback `text` plus plain_text section and context blocks."""
    headline = f"agentwatch {alert.get('level', '?')} alert: {alert.get('title') or ''}"
    facts = (f"agent {alert.get('agent_id')}  session {alert.get('session_id') or '-'}  "
             f"rules {', '.join(alert.get('rule_ids') or ()) or '-'}  risk {alert.get('risk_score')}")
    return {
        "text": _slack_escape(headline),
        "mrkdwn": False,
        "unfurl_links": False,
        "unfurl_media": False,
        "blocks": [
            {"type": "section", "text": {"type": "plain_text", "text": _clip(inert_text(headline), 3000)}},
            {"type": "section", "text": {"type": "plain_text", "text": _clip(inert_text(facts), 3000)}},
            {"type": "context", "elements": [
                {"type": "plain_text", "text": _clip(f"dedup_key {alert['alert_key']}", 2000)}]},
        ],
    }


def pagerduty_payload(alert: Mapping[str, Any], routing_key: str) -> dict[str, Any]:
    """A PagerDuty Events API v2 `trigger` event; dedup_key is the alert's stable key."""
    summary = f"agentwatch: {alert.get('title') or 'alert'} ({alert.get('agent_id')})"
    payload: dict[str, Any] = {
        "summary": _clip(inert_text(summary), 1024),
        "source": str(alert.get("agent_id") or "agentwatch"),
        "severity": PAGERDUTY_SEVERITY.get(str(alert.get("level")), "error"),
        "component": str(alert.get("agent_id") or ""),
        "group": "agentwatch",
        "class": ",".join(alert.get("rule_ids") or ()) or "alert",
        "custom_details": alert_document(alert),
    }
    if alert.get("first_seen_at") is not None:
        payload["timestamp"] = _jsonable(alert["first_seen_at"])
    return {"routing_key": routing_key, "event_action": "trigger", "dedup_key": alert["alert_key"][:255],
            "payload": payload, "client": "agentwatch"}


def webhook_body(alert: Mapping[str, Any], options: Mapping[str, Any], playbook_id: str, action_id: str) -> bytes:
    """The body a webhook action POSTs, in its format."""
    fmt = options["format"]
    if fmt == "slack":
        body = slack_payload(alert)
    elif fmt == "pagerduty":
        body = pagerduty_payload(alert, options["routing_key"])
    else:
        body = json_payload(alert, playbook_id, action_id)
    return orjson.dumps(body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not an instruction: following it would resend secret headers elsewhere."""

    def redirect_request(self, *args: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post_webhook(url: str, body: bytes, headers: Mapping[str, str], timeout_s: float, dedup_key: str) -> Attempt:
    """POST the body; 2xx is success; 429, 5xx and network errors are worth retrying; 3xx and other 4xx
    are not (redirects are not followed)."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": USER_AGENT, "X-Agentwatch-Dedup-Key": dedup_key,
        **headers,
    })
    try:
        with _OPENER.open(request, timeout=timeout_s) as response:
            return Attempt(True, f"HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        retryable = exc.code == 429 or exc.code >= 500
        return Attempt(False, f"HTTP {exc.code} {_clip(inert_text(str(exc.reason)), 100)}", retryable)
    except (urllib.error.URLError, OSError) as exc:
        return Attempt(False, f"cannot reach the webhook: {_clip(inert_text(str(exc)), 200)}")


def run_command(argv: tuple[str, ...], alert: Mapping[str, Any], timeout_s: float) -> Attempt:
    """Run argv (no shell) with the alert JSON on stdin; killed with its process group at the limit."""
    stdin = orjson.dumps({"dedup_key": alert["alert_key"], "alert": alert_document(alert)})
    env = {**os.environ, "AGENTWATCH_ALERT_KEY": alert["alert_key"], "AGENTWATCH_DEDUP_KEY": alert["alert_key"]}
    with tempfile.TemporaryFile() as output:
        try:
            process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=output, stderr=subprocess.STDOUT,
                                       env=env, start_new_session=True)
        except OSError as exc:
            return Attempt(False, f"cannot start {argv[0]}: {exc.strerror}", retryable=False)
        try:
            process.communicate(stdin, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            return Attempt(False, f"killed after {timeout_s:g} s{_tail(output)}")
        tail = _tail(output)
    if process.returncode == 0:
        return Attempt(True, f"exit 0{tail}")
    return Attempt(False, f"exit {process.returncode}{tail}")


def _kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # the command's children too (a script's `sleep`)
    process.wait()


def _tail(output: Any) -> str:
    output.seek(0, os.SEEK_END)
    size = output.tell()
    output.seek(max(0, size - DETAIL_CHARS))
    text = output.read().decode("utf-8", "replace").strip()
    return f": {inert_text(text)}" if text else ""


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _slack_escape(text: str) -> str:
    # Slack's text field treats &, < and > as control characters (<url|label> links, <!channel>)
    return inert_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
