"""Run the metric models over builder sessions and read back what they made."""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType
from typing import Any

import duckdb

from agentwatch.detectors.metrics.models import build_metrics
from agentwatch.inventory import DIMENSIONS, SCOPE_KINDS, Agent
from tests.support.builders import events_connection


def agent(
    agent_id: str,
    *,
    scope: dict[str, Iterable[str]] | None = None,
    allowed_tools: Iterable[str] = (),
    approval_required: Iterable[str] = (),
    approval_keys: dict[str, str] | None = None,
) -> Agent:
    """An inventory entry with middling declared scores and the given scope and tools."""
    scope = scope or {}
    return Agent(
        agent_id=agent_id,
        owner="owner@example.com",
        purpose="test agent",
        business_value=3,
        declared=MappingProxyType(dict.fromkeys(DIMENSIONS, 3)),
        allowed_tools=tuple(allowed_tools),
        scope=MappingProxyType({k: tuple(scope.get(k, ())) for k in SCOPE_KINDS}),
        approval_required=tuple(approval_required),
        approval_keys=MappingProxyType(dict(approval_keys or {})),
    )


def run_metrics(*sessions: list[dict], agents: Iterable[Agent] = (), **options: Any) -> duckdb.DuckDBPyConnection:
    """A connection over the sessions' events with every metric model built (intermediates kept)."""
    con = events_connection(*sessions)
    build_metrics(con, {a.agent_id: a for a in agents}, keep_intermediate=True, **options)
    return con


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    """Query results as a list of dicts."""
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def session_row(con: duckdb.DuckDBPyConnection, session_id: str) -> dict[str, Any]:
    """The `sessions` row of one session."""
    (row,) = rows(con, "select * from sessions where session_id = ?", [session_id])
    return row


def step_column(con: duckdb.DuckDBPyConnection, session_id: str, column: str) -> list[Any]:
    """One column of a session's `steps`, in step order."""
    result = rows(con, f"select {column} as v from steps where session_id = ? order by step_index", [session_id])
    return [r["v"] for r in result]
