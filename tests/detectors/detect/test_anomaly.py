"""Anomaly models: features against each agent's own normal, per-agent forests with a fleet fallback,
deterministic, the top features named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa

from agentwatch.detectors.detect.anomaly import FEATURES, MIN_AGENT_SESSIONS, score_sessions

NOW = datetime(2026, 3, 30, tzinfo=UTC)


def fleet(rows: list[dict]) -> duckdb.DuckDBPyConnection:
    """A connection whose `detect_sessions` holds the given feature rows (other features 0)."""
    names = [n for n, _ in FEATURES]
    base = {n: 0.0 for n in names} | {"oversight_coverage": 1.0, "telemetry_coverage": 1.0}
    full = [{"agent_id": r["agent_id"], "session_id": r["session_id"], "started_at": r["started_at"],
             **{k: v for k, v in base.items() if not k.endswith("_gap")}, **r["features"]} for r in rows]
    con = duckdb.connect()
    con.register("rows", pa.Table.from_pylist(full))
    con.execute("create table detect_sessions as select * from rows")
    return con


def agent_sessions(agent_id: str, count: int, drift: float, rng: np.random.Generator, start: int = 0) -> list[dict]:
    return [{"agent_id": agent_id, "session_id": f"{agent_id}-{i}",
             "started_at": NOW - timedelta(days=20) + timedelta(hours=i),
             "features": {"goal_drift_level": float(drift + rng.normal(0, 0.03)), "count_tool_calls": 8.0}}
            for i in range(start, start + count)]


def test_drift_is_judged_against_the_agents_own_normal():
    rng = np.random.default_rng(1)
    rows = agent_sessions("wanderer", 60, 0.85, rng) + agent_sessions("focused", 60, 0.45, rng)
    # 0.85 is everyday for the wanderer and far out for the focused agent
    rows.append({**agent_sessions("focused", 1, 0.0, rng, start=99)[0],
                 "features": {"goal_drift_level": 0.85, "count_tool_calls": 8.0}})
    scores = {r["session_id"]: r for r in score_sessions(fleet(rows), now=NOW, window_days=30).scores.to_pylist()}
    focused_outlier = scores["focused-99"]
    assert focused_outlier["anomaly_score"] > 0.5
    assert focused_outlier["top_features"][0]["feature"] == "goal_drift_level"
    assert abs(focused_outlier["top_features"][0]["baseline"] - 0.45) < 0.05
    assert max(s["anomaly_score"] for k, s in scores.items() if k.startswith("wanderer")) < 0.3


def test_young_agents_use_the_fleet_model_and_runs_are_deterministic():
    rng = np.random.default_rng(2)
    rows = agent_sessions("old", MIN_AGENT_SESSIONS + 10, 0.5, rng) + agent_sessions("new", 3, 0.5, rng)
    first = score_sessions(fleet(rows), now=NOW, window_days=30)
    again = score_sessions(fleet(rows), now=NOW, window_days=30)
    assert first.scores.equals(again.scores)
    used = dict(zip(first.scores["session_id"].to_pylist(), first.scores["anomaly_model"].to_pylist(), strict=True))
    assert used["new-0"] == "fleet" and used["old-0"] == "agent:old"
    assert sorted(first.models["model"].to_pylist()) == ["agent:old", "fleet"]


def test_only_the_risky_direction_counts():
    rng = np.random.default_rng(3)
    rows = agent_sessions("a", 50, 0.5, rng)
    rows.append({**agent_sessions("a", 1, 0.5, rng, start=77)[0],
                 "features": {"goal_drift_level": 0.0, "count_tool_calls": 0.0}})  # unusually quiet
    scores = {r["session_id"]: r for r in score_sessions(fleet(rows), now=NOW, window_days=30).scores.to_pylist()}
    assert scores["a-77"]["anomaly_score"] == 0 and scores["a-77"]["top_features"] == []


def labels(*pairs: tuple[str, str]) -> pa.Table:
    return pa.table({"agent_id": [a for a, _ in pairs], "session_id": [s for _, s in pairs],
                     "by": ["ana"] * len(pairs), "note": ["known job"] * len(pairs)})


def drifting(agent_id: str, session: str, drift: float, calls: float = 8.0, days_ago: float = 20) -> dict:
    return {"agent_id": agent_id, "session_id": session, "started_at": NOW - timedelta(days=days_ago),
            "features": {"goal_drift_level": drift, "count_tool_calls": calls}}


def test_a_session_labelled_normal_quiets_sessions_no_riskier_than_it_and_only_those():
    rng = np.random.default_rng(4)
    rows = agent_sessions("focused", 60, 0.45, rng) + agent_sessions("other", 60, 0.45, rng) + [
        drifting("focused", "labelled", 0.85), drifting("focused", "milder", 0.8),
        drifting("focused", "further", 0.85, calls=200.0), drifting("other", "same-elsewhere", 0.85)]
    plain = {r["session_id"]: r for r in score_sessions(fleet(rows), now=NOW, window_days=30).scores.to_pylist()}
    assert min(plain[s]["anomaly_score"] for s in ("labelled", "milder", "further", "same-elsewhere")) > 0.5
    assert all(r["feedback_session_id"] is None for r in plain.values())
    result = score_sessions(fleet(rows), now=NOW, window_days=30, labelled=labels(("focused", "labelled")))
    fed = {r["session_id"]: r for r in result.scores.to_pylist()}
    for session in ("labelled", "milder"):  # no riskier than the labelled session on any feature
        assert fed[session]["anomaly_score"] == 0
        assert fed[session]["anomaly_score_before_feedback"] == plain[session]["anomaly_score"]
        assert (fed[session]["feedback_session_id"], fed[session]["feedback_by"]) == ("labelled", "ana")
    assert fed["further"]["anomaly_score"] > 0.5  # far more tool calls than the labelled session
    assert fed["same-elsewhere"] == plain["same-elsewhere"]  # a label speaks for its own agent only
    again = score_sessions(fleet(rows), now=NOW, window_days=30, labelled=labels(("focused", "labelled")))
    assert again.scores.equals(result.scores)


def test_a_labelled_session_older_than_the_window_still_joins_its_agents_training():
    rng = np.random.default_rng(5)
    rows = agent_sessions("focused", 60, 0.45, rng) + [drifting("focused", "old", 0.85, days_ago=90),
                                                         drifting("focused", "new", 0.84)]
    result = score_sessions(fleet(rows), now=NOW, window_days=30, labelled=labels(("focused", "old")))
    model = next(m for m in result.models.to_pylist() if m["model"] == "agent:focused")
    assert (model["count_sessions"], model["count_labelled"]) == (62, 1)
    fed = {r["session_id"]: r for r in result.scores.to_pylist()}
    assert fed["new"]["anomaly_score"] == 0 and fed["new"]["feedback_session_id"] == "old"
