"""One explained risk score per session, the alerts it raises, and the analysts' feedback.

`risk_score` in [0, 1] combines rule levels and the anomaly score (formulas in
`sql/session_scores.sql`); `flagged` is `risk_score >= FLAG_THRESHOLD`. The weights were
chosen so a high or critical rule flags on its own, a medium one needs a second signal (another
medium rule, or an anomaly of about 0.2), and an anomaly alone flags from about 0.63.
Feedback: an alert closed as a false positive suppresses its exact pattern (each rule id in it, or
`anomaly:<leading feature>`) for that agent from the next run on, and its session becomes a labelled
normal example of the agent's anomaly model (anomaly.py); the reasons say when either changed a score.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from agentwatch.detectors.detect.findings import read_detect_model
from agentwatch.detectors.detect.rules import LEVELS

LEVEL_WEIGHTS = {"low": 0.15, "medium": 0.4, "high": 0.7, "critical": 0.9}
ANOMALY_WEIGHT = 0.8
FLAG_THRESHOLD = 0.5
ANOMALY_REASON_MIN = 0.3  # an anomaly below this is not worth a reason line
ANOMALY_FINDING_MIN = 0.5  # an anomaly from this on is also a finding (source 'anomaly')
SUPPRESSIONS_SCHEMA = pa.schema([("agent_id", pa.string()), ("pattern", pa.string()), ("by", pa.string()),
                                 ("note", pa.string()), ("at", pa.timestamp("us", "UTC"))])
LABELLED_SCHEMA = pa.schema([("agent_id", pa.string()), ("session_id", pa.string()), ("by", pa.string()),
                             ("note", pa.string()), ("at", pa.timestamp("us", "UTC"))])


def score_params() -> dict[str, Any]:
    """Bound parameters of the scoring SQL."""
    return {**{f"w_{k}": v for k, v in LEVEL_WEIGHTS.items()}, "anomaly_weight": ANOMALY_WEIGHT,
            "flag_threshold": FLAG_THRESHOLD, "anomaly_reason_min": ANOMALY_REASON_MIN}


def build_session_scores(con: duckdb.DuckDBPyConnection, findings: pa.Table, anomaly: pa.Table,
                         suppressions: pa.Table) -> pa.Table:
    """The `session_scores` rows: every session in detect_sessions with its score and reasons."""
    con.register("scored_findings", findings.filter(pa.compute.is_valid(findings["session_id"])))
    con.register("anomaly_scores", anomaly)
    con.register("suppressions", suppressions)
    sql = read_detect_model("session_scores")
    scores = con.sql(sql, params=_used(score_params(), sql)).to_arrow_table()
    for name in ("scored_findings", "anomaly_scores", "suppressions"):
        con.unregister(name)
    return scores


def build_alerts(con: duckdb.DuckDBPyConnection, scores: pa.Table, previous: pa.Table | None,
                 now: datetime) -> pa.Table:
    """Alerts: flagged sessions (stable keys, first_seen_at kept) and earlier alerts kept on record."""
    con.register("new_session_scores", scores)  # not `session_scores`: that is the lake's last run
    con.register("previous_alerts", previous if previous is not None else _empty_alerts())
    alerts = con.sql(read_detect_model("alerts"), params={"now": now, "levels": list(LEVELS)}).to_arrow_table()
    con.unregister("new_session_scores")
    con.unregister("previous_alerts")
    return alerts


def load_suppressions(con: duckdb.DuckDBPyConnection, tables: set[str]) -> pa.Table:
    """(agent_id, pattern) of every alert whose latest state is closed as a false positive."""
    if "alert_state" not in tables or "alerts" not in tables:
        return SUPPRESSIONS_SCHEMA.empty_table()
    return con.sql(read_detect_model("suppressions")).to_arrow_table().cast(SUPPRESSIONS_SCHEMA)


def load_labelled_normal(con: duckdb.DuckDBPyConnection, tables: set[str]) -> pa.Table:
    """(agent_id, session_id) of every session whose alert's latest state is closed as a false positive."""
    if "alert_state" not in tables or "alerts" not in tables:
        return LABELLED_SCHEMA.empty_table()
    return con.sql(read_detect_model("labelled_normal")).to_arrow_table().cast(LABELLED_SCHEMA)


def session_reasons(con: duckdb.DuckDBPyConnection, session_id: str, agent_id: str | None = None) -> list[dict]:
    """A session's reasons, each with its evidence events (id, time, type, tool, text start)."""
    sql = read_detect_model("session_reasons")
    rows = con.sql(sql, params={"session_id": session_id, "agent_id": agent_id}).fetchall()
    reasons: dict[int, dict] = {}
    for ordinal, kind, rid, level, text, event_id, ts, event_type, tool, snippet in rows:
        reason = reasons.setdefault(ordinal, {"kind": kind, "id": rid, "level": level, "text": text, "evidence": []})
        if event_id is not None:
            reason["evidence"].append({"event_id": event_id, "ts": ts, "event_type": event_type,
                                       "tool_name": tool, "text": snippet})
    return [reasons[k] for k in sorted(reasons)]


def _empty_alerts() -> pa.Table:
    return pa.schema([
        ("alert_key", pa.string()), ("agent_id", pa.string()), ("session_id", pa.string()), ("level", pa.string()),
        ("title", pa.string()), ("rule_ids", pa.list_(pa.string())), ("risk_score", pa.float64()),
        ("first_seen_at", pa.timestamp("us", "UTC")), ("last_seen_at", pa.timestamp("us", "UTC")),
    ]).empty_table()


def _used(params: dict[str, Any], sql: str) -> dict[str, Any]:
    code = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return {k: v for k, v in params.items() if f"${k}" in code}
