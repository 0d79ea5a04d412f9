"""Per-agent anomaly models over session features (scikit-learn IsolationForest).

Raw counts cannot rank sessions across agents (one agent's normal goal drift is 0.85, another's
0.45), so every feature is first expressed against the agent's *own* normal: z = (x - median) /
scale over the agent's sessions in the training window, with a robust scale (IQR / 1.349, never
below a floor so a feature that is always 0 does not turn a single 1 into infinity). Only the risky
direction counts (more destructive calls, less oversight): z below 0 is clipped to 0.

Agents with at least MIN_AGENT_SESSIONS sessions in the window get their own forest, fitted on
their own window; younger agents are scored by a fleet-wide forest fitted on every mature agent's
normalized features (what "unusual for its own agent" looks like anywhere), with their own medians
when they have MIN_MEDIAN_SESSIONS sessions, else the fleet's. A forest's raw score becomes an
`anomaly_score` in [0, 1]: rarity (the share of the window's sessions the forest finds more normal)
times severity (the session's robust distance from its agent's normal, past a dead zone of
DEAD_ZONE deviations), so a session is anomalous only when it is both rare and far. Each scored
session names its top features with value, the agent's baseline and z.

Analysts' feedback: a session whose alert was closed as a false positive is a labelled normal example
of its agent. It joins its agent's training set (medians, scales, forest) even when older than the
window, and it widens what counts as normal: a session's severity is measured from the nearer of its
agent's median and its nearest labelled example (how far it goes *past* that session, risky direction
only), so a session no riskier than one an analyst called normal scores 0. A score lowered by at
least FEEDBACK_MIN_CHANGE keeps the value it would have had without the labels and names the labelled
session that lowered it; smaller differences are left as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa
from sklearn.ensemble import IsolationForest

# (feature, transform): log = log1p of a count, share = a 0..1 value. Gaps are 1 - coverage.
FEATURES = (
    ("goal_drift_level", "share"), ("goal_drift_trend", "share"),
    ("count_tool_calls", "log"), ("count_destructive_actions", "log"), ("count_privilege_actions", "log"),
    ("count_network_calls", "log"), ("count_write_calls", "log"), ("count_sink_calls", "log"),
    ("count_untrusted_sink_calls", "log"), ("oversight_gap", "share"), ("telemetry_gap", "share"),
    ("max_identical_results", "log"), ("count_late_new_tools", "log"), ("count_late_new_resources", "log"),
    ("count_new_tools_vs_baseline", "log"), ("count_new_resources_vs_baseline", "log"),
    ("count_peer_novel_items", "log"), ("count_fleet_peer_novel_items", "log"), ("longest_autonomy_run", "log"),
    ("count_spawned", "log"), ("spawn_chain_depth", "log"), ("count_errors", "log"),
    ("count_flagged_events", "log"), ("count_out_of_scope_resources", "log"), ("count_distinct_resources", "log"),
)
SCALE_FLOOR = {"log": 0.5, "share": 0.05}
MIN_AGENT_SESSIONS = 30
MIN_MEDIAN_SESSIONS = 5
SEED = 0
TREES = 200
# severity = 1 - exp(-(distance - DEAD_ZONE) / SEVERITY_SCALE); distance: Euclidean norm of the clipped z
DEAD_ZONE = 3.0
SEVERITY_SCALE = 3.0
TOP_FEATURES = 3
# a labelled example changes a score only by this much or more: every change shows in the reasons (2 decimals)
FEEDBACK_MIN_CHANGE = 0.01


@dataclass(frozen=True)
class AnomalyResult:
    """Scores per session and the models that made them."""

    # agent_id, session_id, anomaly_score, anomaly_model, top_features, anomaly_score_before_feedback,
    # feedback_session_id / feedback_by / feedback_note (the labelled example that lowered the score)
    scores: pa.Table
    models: pa.Table  # one row per fitted model: features, medians, scales, window, sessions


def score_sessions(con: duckdb.DuckDBPyConnection, *, now: datetime, window_days: int,
                   labelled: pa.Table | None = None) -> AnomalyResult:
    """Fit per-agent (and fleet) models on the window before `now` plus the sessions analysts labelled
    normal (`labelled`: agent_id, session_id, by, note), and score every session."""
    frame = con.sql(_feature_query()).fetchnumpy()
    agents, sessions = frame["agent_id"].astype(str), frame["session_id"].astype(str)
    x = np.column_stack([_transform(frame[name], kind) for name, kind in FEATURES]).astype(float)
    label_of = _label_rows(agents, sessions, labelled)
    training = _in_window(frame["started_at"], now, window_days) | (label_of >= 0)
    stats = _agent_stats(agents, x, training)
    z, medians = np.zeros_like(x), np.zeros_like(x)
    for agent, (median, scale, _) in stats.items():
        rows = agents == agent
        z[rows], medians[rows] = np.clip((x[rows] - median) / scale, 0, None), median
    rarity, model_of, models = _fit_and_score(agents, z, training, stats, now, window_days, label_of >= 0)
    distance = np.sqrt((z**2).sum(axis=1))
    beyond, nearest = _distance_beyond_labels(agents, z, label_of >= 0)
    before, lowered = _score(rarity, distance), _score(rarity, np.minimum(distance, beyond))
    scores = np.where(before - lowered >= FEEDBACK_MIN_CHANGE, lowered, before)
    table = pa.table({
        "agent_id": agents.tolist(), "session_id": sessions.tolist(), "anomaly_score": scores,
        "anomaly_model": model_of.tolist(), "top_features": _top_features(x, z, medians),
        "anomaly_score_before_feedback": before,
        **_feedback_columns(scores < before, nearest, sessions, label_of, labelled),
    })
    return AnomalyResult(table, pa.Table.from_pylist(models, schema=MODEL_SCHEMA))


MODEL_SCHEMA = pa.schema([
    ("model", pa.string()), ("agent_id", pa.string()), ("kind", pa.string()), ("features", pa.list_(pa.string())),
    ("medians", pa.list_(pa.float64())), ("scales", pa.list_(pa.float64())),
    ("window_start", pa.timestamp("us", "UTC")),
    ("window_end", pa.timestamp("us", "UTC")), ("count_sessions", pa.int64()), ("seed", pa.int64()),
    ("trees", pa.int64()), ("score_median", pa.float64()), ("dead_zone", pa.float64()),
    ("severity_scale", pa.float64()), ("count_labelled", pa.int64()),
])


def _feature_query() -> str:
    columns = ", ".join(
        f"coalesce(1 - {name[:-4]}_coverage, 0)::double as {name}" if name.endswith("_gap")
        else f"coalesce({name}, 0)::double as {name}" for name, _ in FEATURES
    )
    return f"select agent_id, session_id, started_at, {columns} from detect_sessions order by agent_id, session_id"


def _transform(values: np.ndarray, kind: str) -> np.ndarray:
    values = np.nan_to_num(values.astype(float))
    return np.log1p(np.clip(values, 0, None)) if kind == "log" else values


def _agent_stats(agents: np.ndarray, x: np.ndarray, in_window: np.ndarray) -> dict[str, tuple]:
    """agent -> (median, scale, training sessions): own statistics, or the fleet's for young agents."""
    floors = np.array([SCALE_FLOOR[kind] for _, kind in FEATURES])
    fleet_median, fleet_scale = _robust(x[in_window] if in_window.any() else x, floors)
    stats = {}
    for agent in np.unique(agents):
        rows = x[(agents == agent) & in_window]
        if len(rows) >= MIN_AGENT_SESSIONS:
            stats[agent] = (*_robust(rows, floors), len(rows))
        elif len(rows) >= MIN_MEDIAN_SESSIONS:
            stats[agent] = (np.median(rows, axis=0), fleet_scale, len(rows))
        else:
            stats[agent] = (fleet_median, fleet_scale, len(rows))
    return stats


def _robust(x: np.ndarray, floors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(x) == 0:
        return np.zeros(len(floors)), floors
    q1, median, q3 = np.percentile(x, [25, 50, 75], axis=0)
    return median, np.maximum((q3 - q1) / 1.349, floors)


def _fit_and_score(agents: np.ndarray, z: np.ndarray, training: np.ndarray, stats: dict, now: datetime,
                   window_days: int, is_label: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Each session's rarity under its model (its agent's forest, or the fleet's), and the model rows."""
    rarity = np.zeros(len(agents))
    model_of = np.full(len(agents), "", dtype=object)
    models = []
    mature = [a for a, s in stats.items() if s[2] >= MIN_AGENT_SESSIONS]
    fleet_rows = np.isin(agents, mature) & training
    young = len(stats) > len(mature)  # the fleet forest scores only young agents: its training scores wait on them
    fleet = _fit(z[fleet_rows], keep_scores=young) if fleet_rows.sum() >= MIN_AGENT_SESSIONS else None
    for agent in sorted(stats):
        rows = agents == agent
        if agent in mature:  # one scoring pass serves as the training scores and the session scores
            forest = _fit(z[rows & training], keep_scores=False)
            raw = forest.forest.score_samples(z[rows])
            forest = _Forest(forest.forest, np.sort(raw[training[rows]]))
            models.append(_model_row(f"agent:{agent}", agent, "agent", forest, stats[agent], now, window_days,
                                     int(is_label[rows].sum())))
            rarity[rows], model_of[rows] = _rarity(forest, z[rows], raw), f"agent:{agent}"
        elif fleet is not None:
            rarity[rows], model_of[rows] = _rarity(fleet, z[rows]), "fleet"
    if fleet is not None:
        fleet_stats = (np.zeros(z.shape[1]), np.ones(z.shape[1]), int(fleet_rows.sum()))
        models.append(_model_row("fleet", None, "fleet", fleet, fleet_stats, now, window_days,
                                 int(is_label[fleet_rows].sum())))
    return rarity, model_of, models


@dataclass(frozen=True)
class _Forest:
    forest: IsolationForest
    train_scores: np.ndarray  # sorted forest scores of the training sessions


def _fit(z: np.ndarray, keep_scores: bool = True) -> _Forest:
    forest = IsolationForest(n_estimators=TREES, max_samples=min(256, len(z)), random_state=SEED).fit(z)
    return _Forest(forest, np.sort(forest.score_samples(z)) if keep_scores else np.empty(0))


def _rarity(model: _Forest, z: np.ndarray, raw: np.ndarray | None = None) -> np.ndarray:
    """The share of training sessions the forest finds more normal than each session."""
    raw = model.forest.score_samples(z) if raw is None else raw
    return 1 - np.searchsorted(model.train_scores, raw, side="right") / len(model.train_scores)


def _score(rarity: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """rarity x severity (how far, in robust deviations, the session sits from normal in the risky
    direction, past a dead zone)."""
    severity = 1 - np.exp(-np.clip(distance - DEAD_ZONE, 0, None) / SEVERITY_SCALE)
    return np.round(rarity * severity, 6)


def _in_window(started: np.ndarray, now: datetime, window_days: int) -> np.ndarray:
    started = started.astype("datetime64[us]")
    start = np.datetime64((now - timedelta(days=window_days)).replace(tzinfo=None), "us")
    return (started >= start) & (started < np.datetime64(now.replace(tzinfo=None), "us"))


def _label_rows(agents: np.ndarray, sessions: np.ndarray, labelled: pa.Table | None) -> np.ndarray:
    """Per session, its row in `labelled` (an analyst called it normal), else -1."""
    if labelled is None or labelled.num_rows == 0:
        return np.full(len(agents), -1)
    keys = np.char.add(np.char.add(agents, "\x1f"), sessions)
    wanted = np.char.add(np.char.add(np.array(labelled["agent_id"].to_pylist(), dtype=str), "\x1f"),
                         np.array(labelled["session_id"].to_pylist(), dtype=str))
    order = np.argsort(wanted, kind="stable")
    at = np.minimum(np.searchsorted(wanted[order], keys), len(wanted) - 1)
    return np.where(wanted[order][at] == keys, order[at], -1)


def _distance_beyond_labels(agents: np.ndarray, z: np.ndarray, is_label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per session, how far it goes past the nearest labelled normal session of its agent (norm of
    the excess over that session's z) and that session's row; inf and -1 when its agent has none."""
    beyond, nearest = np.full(len(z), np.inf), np.full(len(z), -1)
    for agent in np.unique(agents[is_label]):
        rows = np.flatnonzero(agents == agent)
        for label in rows[is_label[rows]]:  # ordered by session: ties keep the first label
            excess = np.sqrt((np.clip(z[rows] - z[label], 0, None) ** 2).sum(axis=1))
            closer = excess < beyond[rows]
            beyond[rows[closer]], nearest[rows[closer]] = excess[closer], label
    return beyond, nearest


def _feedback_columns(changed: np.ndarray, nearest: np.ndarray, sessions: np.ndarray, label_of: np.ndarray,
                      labelled: pa.Table | None) -> dict[str, pa.Array]:
    """The labelled session that lowered each changed score, with who closed it and why (else null)."""
    rows = np.flatnonzero(changed)
    columns = {name: [None] * len(changed) for name in ("feedback_session_id", "feedback_by", "feedback_note")}
    if len(rows):
        label_rows = label_of[nearest[rows]]
        by, note = (labelled[name].take(pa.array(label_rows)).to_pylist() for name in ("by", "note"))
        for i, row in enumerate(rows):
            columns["feedback_session_id"][row] = str(sessions[nearest[row]])
            columns["feedback_by"][row], columns["feedback_note"][row] = by[i], note[i]
    return {name: pa.array(values, pa.string()) for name, values in columns.items()}


def _model_row(name: str, agent: str | None, kind: str, model: _Forest, stats: tuple, now: datetime,
               window_days: int, count_labelled: int) -> dict:
    median, scale, count = stats
    return {"model": name, "agent_id": agent, "kind": kind, "features": [f for f, _ in FEATURES],
            "medians": [float(v) for v in median], "scales": [float(v) for v in scale],
            "window_start": now - timedelta(days=window_days), "window_end": now, "count_sessions": int(count),
            "seed": SEED, "trees": TREES,
            "score_median": float(np.median(model.train_scores)) if len(model.train_scores) else None,
            "dead_zone": DEAD_ZONE, "severity_scale": SEVERITY_SCALE, "count_labelled": count_labelled}


def _top_features(x: np.ndarray, z: np.ndarray, medians: np.ndarray) -> pa.ListArray:
    """Per session, the TOP_FEATURES largest positive z (feature, value, agent's baseline, z), vectorized."""
    order = np.argsort(-z, axis=1, kind="stable")[:, :TOP_FEATURES]
    rows = np.repeat(np.arange(len(z)), order.shape[1])
    cols = order.ravel()
    keep = z[rows, cols] > 0
    rows, cols = rows[keep], cols[keep]
    logs = np.array([kind == "log" for _, kind in FEATURES])[cols]
    raw = lambda v: np.round(np.where(logs, np.expm1(v), v), 3)  # noqa: E731
    names = np.array([name for name, _ in FEATURES], dtype=object)[cols]
    structs = pa.StructArray.from_arrays(
        [pa.array(names, pa.string()), pa.array(raw(x[rows, cols])), pa.array(raw(medians[rows, cols])),
         pa.array(np.round(z[rows, cols], 2))], names=["feature", "value", "baseline", "z"])
    offsets = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(z)))]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), structs)
