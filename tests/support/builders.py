"""Tiny story helpers that build canonical events, so tests read like what the agent did.

    rows = session(
        "cicd-assistant",
        user("fix the bug in payments"),
        tool_call("c1", "bash", {"cmd": "rm -rf /srv"}),
        tool_result("c1", "removed"),
        session_id="s1",
    )
    con = events_connection(rows)          # in-memory DuckDB with a view `events`

Each step helper returns a partial event; `session` numbers them (seq 1, 2, ...), times them
(`start` + `step_seconds` per step) and fills every other canonical column, so the rows validate
against EVENT_SCHEMA. Any canonical field can be given as a keyword (`input_tokens=10`,
`flags=["injection_phrase"]`, `status="error"`, `attrs={...}`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from agentwatch.schema import EVENT_COLUMNS, EVENT_SCHEMA

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
Step = dict[str, Any]


def user(text: str, *, actor: str = "alice", **fields: Any) -> Step:
    """A human's prompt."""
    return _step("user_prompt", text=text, actor=actor, **fields)


def system(text: str, **fields: Any) -> Step:
    """The operator's system prompt."""
    return _step("system_prompt", text=text, **fields)


def response(text: str, **fields: Any) -> Step:
    """A model response."""
    return _step("llm_response", text=text, **fields)


def reasoning(text: str, **fields: Any) -> Step:
    """The model's visible reasoning."""
    return _step("reasoning", text=text, **fields)


def tool_call(call_id: str, tool_name: str, args: dict | str | None = None, **fields: Any) -> Step:
    """The agent calls a tool; `args` is a dict (stored as JSON text) or JSON text."""
    if isinstance(args, dict):
        args = orjson.dumps(args).decode()
    return _step("tool_call", tool_call_id=call_id, tool_name=tool_name, tool_args=args, **fields)


def tool_result(call_id: str, text: str, *, status: str = "ok", **fields: Any) -> Step:
    """What a tool returned to the agent."""
    return _step("tool_result", tool_call_id=call_id, text=text, status=status, **fields)


def approval(
    call_id: str,
    *,
    actor: str = "alice",
    key_id: str = "alice-2026",
    signature: str = "c2lnbmF0dXJl",
    summary: str = "approved",
    **fields: Any,
) -> Step:
    """A human's signed approval of one tool call."""
    attrs = {"summary": summary, "signature": signature, "key_id": key_id}
    return _step("approval", tool_call_id=call_id, actor=actor, attrs=attrs, **fields)


def spawn(child_session_id: str, **fields: Any) -> Step:
    """The agent starts a sub-agent (whose session names this one as parent)."""
    return _step("agent_spawn", attrs={"child_session_id": child_session_id}, **fields)


def error(text: str, **fields: Any) -> Step:
    """An error the agent runtime logged."""
    return _step("error", text=text, status="error", **fields)


def session(
    agent_id: str,
    *steps: Step,
    session_id: str | None = None,
    parent_session_id: str | None = None,
    start: datetime = START,
    step_seconds: int = 1,
) -> list[dict[str, Any]]:
    """Full canonical rows for one session, in order."""
    session_id = session_id or f"{agent_id}-session"
    rows = []
    for seq, step in enumerate(steps, start=1):
        row = {name: None for name in EVENT_COLUMNS}
        row.update(
            event_id=f"{session_id}-{seq}",
            ts=start + timedelta(seconds=seq * step_seconds),
            agent_id=agent_id,
            session_id=session_id,
            parent_session_id=parent_session_id,
            seq=seq,
            redactions=0,
            flags=[],
            source_format="native",
            source_file="builders",
            source_offset=seq,
            attrs="{}",
        )
        row.update(step)
        rows.append(row)
    return rows


def events_table(*sessions: list[dict[str, Any]]) -> pa.Table:
    """An Arrow table with EVENT_SCHEMA holding every row of the given sessions."""
    rows = [row for rows in sessions for row in rows]
    return pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)


def events_connection(*sessions: list[dict[str, Any]]) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with a view `events` over the given sessions."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.register("events_arrow", events_table(*sessions))
    con.execute("create view events as select * from events_arrow")
    return con


def _step(event_type: str, **fields: Any) -> Step:
    if isinstance(fields.get("attrs"), dict):
        fields["attrs"] = orjson.dumps(fields["attrs"]).decode()
    unknown = set(fields) - set(EVENT_COLUMNS)
    if unknown:
        raise TypeError(f"not canonical event fields: {sorted(unknown)}")
    return {"event_type": event_type, **fields}
