"""`agentwatch eval --labels FILE`: detection quality against labelled sessions, measured not assumed.

Labels are a CSV `session_id,label[,scenario]` (label 1: incident). Reported for `risk_score` and
`flagged`: precision, recall, ROC AUC, recall at 1 / 3 / 5 % false-positive rate (analysts live at
the low-FPR end), per scenario (sessions, flagged, mean risk, the rule or feature most often named),
and false positives per agent-day. Sessions without a label are ignored; a labelled session the lake
does not hold counts as missed (risk 0), so a broken ingest cannot look like good detection.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

from agentwatch.errors import ConfigError

FPR_POINTS = (0.01, 0.03, 0.05)


@dataclass(frozen=True)
class Evaluation:
    """Quality figures of one labelled run."""

    sessions: int
    positives: int
    flagged: int
    true_positives: int
    false_positives: int
    precision: float | None
    recall: float | None
    roc_auc: float | None
    recall_at_fpr: dict[str, float | None]
    false_positives_per_agent_day: float
    agent_days: int
    missing_sessions: int
    per_scenario: list[dict[str, Any]] = field(default_factory=list)


def read_labels(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a labels CSV; errors name the file and line."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise ConfigError(f"cannot read labels: {exc}", str(path)) from exc
    labels = []
    for line, row in enumerate(rows, start=2):
        if not row.get("session_id") or row.get("label") not in ("0", "1"):
            raise ConfigError("each row needs a session_id and a label 0 or 1", f"{path}:{line}")
        labels.append({"session_id": row["session_id"], "label": int(row["label"]),
                       "scenario": row.get("scenario") or ("incident" if row["label"] == "1" else "normal")})
    return labels


def evaluate(con: duckdb.DuckDBPyConnection, labels: list[dict[str, Any]]) -> Evaluation:
    """Compare the lake's `sessions` scores with the labels."""
    con.execute("create or replace temp table eval_labels (session_id varchar, label integer, scenario varchar)")
    con.executemany("insert into eval_labels values (?, ?, ?)", [(r["session_id"], r["label"], r["scenario"])
                                                                 for r in labels])
    rows = con.sql("""
        select l.session_id, l.label, l.scenario, s.agent_id, s.session_day, s.session_id is null as missing,
            coalesce(s.risk_score, 0) as risk, coalesce(s.flagged, false) as flagged,
            list_transform(coalesce(s.reasons, []), lambda r: r.id) as reason_ids
        from eval_labels l left join sessions s using (session_id)
    """).fetchall()
    y = np.array([r[1] for r in rows])
    risk = np.array([r[6] for r in rows], dtype=float)
    flagged = np.array([r[7] for r in rows], dtype=bool)
    tp, fp = int((flagged & (y == 1)).sum()), int((flagged & (y == 0)).sum())
    agent_days = len({(r[3], r[4]) for r in rows if not r[5]})
    return Evaluation(
        sessions=len(rows), positives=int(y.sum()), flagged=int(flagged.sum()), true_positives=tp,
        false_positives=fp, precision=tp / (tp + fp) if tp + fp else None,
        recall=tp / int(y.sum()) if y.sum() else None, roc_auc=_auc(y, risk), recall_at_fpr=_recall_at(y, risk),
        false_positives_per_agent_day=fp / agent_days if agent_days else 0.0, agent_days=agent_days,
        missing_sessions=sum(1 for r in rows if r[5]), per_scenario=_per_scenario(rows),
    )


def _auc(y: np.ndarray, risk: np.ndarray) -> float | None:
    return float(roc_auc_score(y, risk)) if 0 < y.sum() < len(y) else None


def _recall_at(y: np.ndarray, risk: np.ndarray) -> dict[str, float | None]:
    if not 0 < y.sum() < len(y):
        return {f"{p:.0%}": None for p in FPR_POINTS}
    fpr, tpr, _ = roc_curve(y, risk)
    return {f"{p:.0%}": float(tpr[fpr <= p].max()) for p in FPR_POINTS}


def _per_scenario(rows: list[tuple]) -> list[dict[str, Any]]:
    groups: dict[str, list[tuple]] = {}
    for row in rows:
        groups.setdefault(row[2], []).append(row)
    out = []
    for scenario, members in sorted(groups.items(), key=lambda kv: (-kv[1][0][1], kv[0])):
        named: dict[str, int] = {}
        for row in members:
            for reason in dict.fromkeys(row[8] if row[7] else []):
                named[reason] = named.get(reason, 0) + 1
        top = sorted(named.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        out.append({"scenario": scenario, "label": members[0][1], "sessions": len(members),
                    "flagged": sum(1 for r in members if r[7]),
                    "mean_risk": round(float(np.mean([r[6] for r in members])), 3),
                    "top_reasons": ", ".join(f"{k} ({v})" for k, v in top)})
    return out


def format_evaluation(result: Evaluation) -> str:
    """The evaluation as plain text."""
    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.3f}"
    lines = [
        f"sessions {result.sessions} (incidents {result.positives}, missing from lake {result.missing_sessions})",
        f"flagged {result.flagged}: true positives {result.true_positives}, false positives {result.false_positives}",
        f"precision {pct(result.precision)}  recall {pct(result.recall)}  ROC AUC (risk_score) {pct(result.roc_auc)}",
        "recall at FPR " + "  ".join(f"{k}: {pct(v)}" for k, v in result.recall_at_fpr.items()),
        f"false positives per agent-day {result.false_positives_per_agent_day:.3f} ({result.agent_days} agent-days)",
        "",
        f"{'scenario':<34} {'label':>5} {'sessions':>8} {'flagged':>7} {'mean risk':>9}  reasons named (sessions)",
    ]
    lines += [f"{s['scenario']:<34} {s['label']:>5} {s['sessions']:>8} {s['flagged']:>7} {s['mean_risk']:>9.3f}  "
              f"{s['top_reasons']}" for s in result.per_scenario]
    return "\n".join(lines) + "\n"
