"""Escalation: act on alerts through playbooks, once per alert per action across re-runs.

`run_escalations` holds the lake's writer lock for the run (so two runs never act on the same alert
at once), reads the `alerts` view (closed alerts excluded) and the `escalations` history, and for each
(alert, playbook, action) not yet settled runs the action, retrying with doubling backoff, then
appends one `escalations` row per attempt (and, for `pause`, the `control` row) in its own manifest
commit. A run killed between acting and that commit repeats at most that one action on the next run,
with the same dedup key (the alert's stable key), so a receiver that dedups never opens a second
incident.

Outcomes per attempt: `ok`; `failed` (will be tried again, in this run or the next); `gave_up` (the
last attempt: not retryable, e.g. HTTP 400 or a missing program, or MAX_TOTAL_ATTEMPTS reached). An
action is settled by an `ok` or a `gave_up` row; one whose run ended on `failed` is tried again by the
next run, so a receiver that is down for a whole run still gets the alert later.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from agentwatch.detectors.escalate.actions import Attempt, post_webhook, run_command, webhook_body
from agentwatch.detectors.escalate.pause_gate import append_control
from agentwatch.detectors.escalate.playbooks import Action, Playbook, Playbooks
from agentwatch.lake import Lake, LakeWriter

SQL_DIR = Path(__file__).parent / "sql"
MAX_TOTAL_ATTEMPTS = 12
ActionKey = tuple[str, str, str]  # alert_key, playbook_id, action_id
ESCALATION_SCHEMA = pa.schema([
    ("alert_key", pa.string()), ("playbook_id", pa.string()), ("action_id", pa.string()),
    ("action_kind", pa.string()), ("attempt", pa.int32()), ("outcome", pa.string()), ("detail", pa.string()),
    ("dedup_key", pa.string()), ("at", pa.timestamp("us", tz="UTC")),
])


@dataclass(frozen=True)
class EscalationRun:
    """What one run did: alerts read, actions due, how they ended, attempts made."""

    count_alerts: int
    count_due: int
    count_ok: int
    count_failed: int
    count_gave_up: int
    count_already_settled: int
    count_attempts: int


def run_escalations(
    lake: Lake | str | Path, playbooks: Playbooks, *, now: datetime, not_before: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> EscalationRun:
    """Run every due playbook action on the lake's open alerts (first seen at or after not_before)."""
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    lake.require()
    started = time.monotonic()
    clock = lambda: now + timedelta(seconds=time.monotonic() - started)  # noqa: E731 - one-line clock
    counts = dict.fromkeys(("due", "ok", "failed", "gave_up", "settled", "attempts"), 0)
    with lake.writer() as writer:
        alerts, history = _read_state(lake, not_before)
        for alert in alerts:
            for playbook, action in playbooks.due(alert):
                key = (alert["alert_key"], playbook.playbook_id, action.action_id)
                attempts, settled = history.get(key, (0, False))
                if settled:
                    counts["settled"] += 1
                    continue
                rows = _escalate(writer, alert, playbook, action, attempts, clock, sleep)
                _record(writer, rows)
                counts["due"] += 1
                counts[rows[-1]["outcome"]] += 1
                counts["attempts"] += len(rows)
    return EscalationRun(len(alerts), counts["due"], counts["ok"], counts["failed"], counts["gave_up"],
                         counts["settled"], counts["attempts"])


def _record(writer: LakeWriter, rows: list[dict[str, Any]]) -> None:
    """Commit one action's attempts (and a pause's control row) as one manifest entry."""
    last = rows[-1]
    writer.append("escalations", pa.Table.from_pylist(rows, schema=ESCALATION_SCHEMA))
    writer.commit("escalate", extra={k: last[k] for k in ("alert_key", "playbook_id", "action_id", "outcome")})


def _read_state(
    lake: Lake, not_before: datetime | None,
) -> tuple[list[dict[str, Any]], dict[ActionKey, tuple[int, bool]]]:
    tables = lake.tables()
    if "alerts" not in tables:
        return [], {}
    con = lake.connect()
    alerts = _records(con.execute(_sql("escalation_alerts"), {"not_before": not_before}))
    history: dict[ActionKey, tuple[int, bool]] = {}
    if "escalations" in tables:
        for row in _records(con.execute(_sql("escalation_history"))):
            key = (row["alert_key"], row["playbook_id"], row["action_id"])
            history[key] = (row["count_attempts"], row["is_settled"])
    return alerts, history


def _escalate(
    writer: LakeWriter, alert: Mapping[str, Any], playbook: Playbook, action: Action, done_before: int,
    clock: Callable[[], datetime], sleep: Callable[[float], None],
) -> list[dict[str, Any]]:
    """Attempt one action until it succeeds, is not retryable, or its attempts run out."""
    budget = min(action.attempts, MAX_TOTAL_ATTEMPTS - done_before)
    rows: list[dict[str, Any]] = []
    for index in range(budget):
        if index:
            sleep(action.backoff_s * 2 ** (index - 1))
        result = _attempt(writer, alert, playbook, action, clock)
        number = done_before + index + 1
        final = result.ok or not result.retryable or number >= MAX_TOTAL_ATTEMPTS
        outcome = "ok" if result.ok else ("gave_up" if final else "failed")
        rows.append({"alert_key": alert["alert_key"], "playbook_id": playbook.playbook_id,
                     "action_id": action.action_id, "action_kind": action.kind, "attempt": number,
                     "outcome": outcome, "detail": result.detail, "dedup_key": alert["alert_key"], "at": clock()})
        if final:
            break
    return rows


def _attempt(
    writer: LakeWriter, alert: Mapping[str, Any], playbook: Playbook, action: Action, clock: Callable[[], datetime],
) -> Attempt:
    options = action.options
    if action.kind == "webhook":
        body = webhook_body(alert, options, playbook.playbook_id, action.action_id)
        return post_webhook(options["url"], body, options["headers"], options["timeout_s"], alert["alert_key"])
    if action.kind == "command":
        return run_command(options["argv"], alert, options["timeout_s"])
    if not alert.get("agent_id"):
        return Attempt(False, "the alert names no agent to pause", retryable=False)
    append_control(writer, alert["agent_id"], "paused", by=f"agentwatch escalate ({playbook.playbook_id})",
                   reason=str(alert.get("title") or "paused by a playbook"), alert_key=alert["alert_key"], at=clock())
    return Attempt(True, f"paused {alert['agent_id']}")


def _records(cursor: Any) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
