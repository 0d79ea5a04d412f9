"""The pause gate: the append-only `control` table (agent_id, state 'paused'|'resumed', by, reason,
alert_key, at) and the state it implies. An agent is paused from its first `paused` row after its
latest `resumed` row; a pause and a resume at the same instant leave it paused (fail closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from agentwatch.lake import Lake, LakeWriter

CONTROL_SQL = Path(__file__).parent / "sql" / "control.sql"
CONTROL_SCHEMA = pa.schema([
    ("agent_id", pa.string()), ("state", pa.string()), ("by", pa.string()), ("reason", pa.string()),
    ("alert_key", pa.string()), ("at", pa.timestamp("us", tz="UTC")),
])


@dataclass(frozen=True)
class AgentControl:
    """Whether an agent is paused, since when, by whom and why (the pause that started it)."""

    agent_id: str
    paused: bool
    since: datetime | None = None
    by: str | None = None
    reason: str | None = None
    alert_key: str | None = None


def control_rows(rows: list[dict]) -> pa.Table:
    """Rows of the control table, with its schema."""
    return pa.Table.from_pylist(rows, schema=CONTROL_SCHEMA)


def append_control(writer: LakeWriter, agent_id: str, state: str, *, by: str, reason: str,
                   at: datetime, alert_key: str | None = None) -> None:
    """Stage one control row (the caller commits)."""
    writer.append("control", control_rows([{"agent_id": agent_id, "state": state, "by": by, "reason": reason,
                                            "alert_key": alert_key, "at": at}]))


def agent_control(lake: Lake, agent_id: str) -> AgentControl:
    """The agent's current state from the committed control rows (not paused when there are none)."""
    lake.require()
    if "control" not in lake.tables():
        return AgentControl(agent_id, paused=False)
    con = lake.connect()
    found = con.execute(CONTROL_SQL.read_text(encoding="utf-8"), {"agent_id": agent_id}).fetchall()
    if not found:
        return AgentControl(agent_id, paused=False)
    at, by, reason, alert_key = found[0]
    return AgentControl(agent_id, paused=True, since=at, by=by, reason=reason, alert_key=alert_key)


def resume_agent(lake: Lake, agent_id: str, *, by: str, at: datetime, reason: str = "") -> AgentControl | None:
    """Lift a pause and record who did it; None (nothing written) when the agent is not paused."""
    state = agent_control(lake, agent_id)
    if not state.paused:
        return None
    with lake.writer() as writer:
        append_control(writer, agent_id, "resumed", by=by, reason=reason or "resumed", at=at)
        writer.commit("control", extra={"agent_id": agent_id, "state": "resumed"})
    return state
