"""One session gathered for a person to read: its events as a timeline with approvals and evidence
marked, its sub-agents, its metrics and the reasons the detectors flagged it for."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from agentwatch.errors import ConfigError

SQL_DIR = Path(__file__).parent
IDENTITY = ("agent_id", "session_id", "parent_session_id", "session_day", "started_at", "ended_at")
SCORES = ("risk_score", "anomaly_score", "flagged", "rule_score", "anomaly_model", "top_features")


@dataclass(frozen=True)
class SessionView:
    """A session as `agentwatch show` prints it."""

    agent_id: str
    session_id: str
    parent_session_id: str | None
    started_at: Any
    ended_at: Any
    timeline: list[dict[str, Any]]  # events in order, each with `approval` and `evidence_of` (reason numbers)
    reasons: list[dict[str, Any]]  # numbered from 1, each with `evidence_seqs`
    sub_agents: list[dict[str, Any]]
    metrics: dict[str, Any] = field(default_factory=dict)  # empty until `agentwatch metrics` has run
    scores: dict[str, Any] = field(default_factory=dict)  # empty until `agentwatch detect` has run


def load_session(con: duckdb.DuckDBPyConnection, lake: str, session_id: str, agent_id: str | None) -> SessionView:
    """Everything the lake knows about one session; ConfigError when it is not there or is ambiguous."""
    found = [m for m in _rows(con, "show_matches", session=session_id) if agent_id in (None, m["agent_id"])]
    if not found:
        owner = f" of agent {agent_id!r}" if agent_id else ""
        raise ConfigError(f"no events of session {session_id!r}{owner}", lake)
    if len(found) > 1:
        agents = ", ".join(repr(m["agent_id"]) for m in found)
        raise ConfigError(f"session {session_id!r} was logged by {len(found)} agents ({agents}); choose one",
                          "--agent")
    match, views = found[0], _views(con)
    params = {"agent": match["agent_id"], "session": session_id}
    row = next(iter(_rows(con, "show_session", **params)), {}) if "sessions" in views else {}
    timeline = _rows(con, "show_timeline", **params)
    reasons = number_reasons(row.get("reasons") or [], timeline)
    approvals = {a["event_id"]: a for a in _rows(con, "show_approvals", **params)} if "steps" in views else {}
    for event in timeline:
        event["approval"] = approvals.get(event["event_id"])
        event["evidence_of"] = [r["number"] for r in reasons if event["event_id"] in r["evidence_event_ids"]]
    return SessionView(
        agent_id=match["agent_id"], session_id=session_id, parent_session_id=match["parent_session_id"],
        started_at=match["started_at"], ended_at=match["ended_at"], timeline=timeline, reasons=reasons,
        sub_agents=_rows(con, "show_sub_agents", session=session_id),
        metrics={k: v for k, v in row.items() if k not in (*IDENTITY, *SCORES, "reasons")},
        scores={k: row[k] for k in SCORES if k in row},
    )


def number_reasons(reasons: list[dict[str, Any]], timeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reasons numbered from 1, each evidence event also named by its seq in this session."""
    seqs = {e["event_id"]: e["seq"] for e in timeline}
    return [{**r, "number": n, "evidence_event_ids": list(r.get("evidence_event_ids") or []),
             "evidence_seqs": [seqs.get(e) for e in r.get("evidence_event_ids") or []]}
            for n, r in enumerate(reasons, 1)]


@cache
def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def _rows(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[dict[str, Any]]:
    cursor = con.execute(_sql(name), params)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _views(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("select view_name from duckdb_views() where not internal").fetchall()}
