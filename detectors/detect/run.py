"""`agentwatch detect`: rules, anomaly models, one explained score, alerts — one lake commit.

Reads the `steps` / `sessions` the metrics built (and any `*_findings` other writers committed, e.g.
signature verification), and replaces `findings`, `session_scores`, `alerts` and `anomaly_models`.
`alert_state` (the analysts' append-only record) is never rewritten here; it is created empty the
first time so its view exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from agentwatch.detectors.detect.anomaly import score_sessions
from agentwatch.detectors.detect.findings import (
    FINDINGS_SCHEMA,
    find_rule_hits,
    prepare_detect_tables,
    with_finding_ids,
)
from agentwatch.detectors.detect.rules import BUILTIN_RULES_DIR, Rule, load_rules
from agentwatch.detectors.detect.score import (
    ANOMALY_FINDING_MIN,
    build_alerts,
    build_session_scores,
    load_labelled_normal,
    load_suppressions,
)
from agentwatch.errors import LakeError
from agentwatch.lake import Lake

WINDOW_DAYS = 30
ALERT_STATE_SCHEMA = pa.schema([
    ("alert_key", pa.string()), ("status", pa.string()), ("by", pa.string()), ("note", pa.string()),
    ("close_reason", pa.string()), ("at", pa.timestamp("us", "UTC")), ("agent_id", pa.string()),
    ("rule_ids", pa.list_(pa.string())),
])


@dataclass(frozen=True)
class DetectRun:
    """What one `detect` run found and committed."""

    count_rules: int
    count_sessions: int
    count_findings: int
    count_flagged: int
    count_alerts: int
    count_new_alerts: int
    count_suppressed: int
    entry: dict[str, Any]


def run_detect(
    lake: Lake | str | Path, *, rules_dirs: Iterable[str | Path] = (), now: datetime, window_days: int = WINDOW_DAYS,
    memory_limit: str | None = None,
) -> DetectRun:
    """Evaluate every rule and the anomaly models over the lake and commit scores, findings, alerts.
    DuckDB spills beyond `memory_limit` (its default, most of the machine's memory, when None)."""
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    lake.require()
    rules = load_rules([BUILTIN_RULES_DIR, *rules_dirs])
    tables = lake.tables()
    if not {"steps", "sessions"} <= tables:
        raise LakeError("no session metrics yet (run `agentwatch metrics` first)", lake.location)
    with lake.writer() as writer:
        con = writer.connection(memory_limit=memory_limit)
        outputs = detect_tables(con, rules, tables, now=now, window_days=window_days)
        for name in ("findings", "session_scores", "alerts", "anomaly_models"):
            writer.replace(name, outputs[name])
        if "alert_state" not in tables:
            writer.append("alert_state", ALERT_STATE_SCHEMA.empty_table())
        summary = _summary(rules, outputs, tables)
        entry = writer.commit("detect", extra={k: v for k, v in summary.items()})
    return DetectRun(**summary, entry=entry)


def detect_tables(con: duckdb.DuckDBPyConnection, rules: list[Rule], tables: set[str], *, now: datetime,
                  window_days: int = WINDOW_DAYS) -> dict[str, pa.Table]:
    """The detector tables over a connection with the lake's views (no writes)."""
    prepare_detect_tables(con)
    hits = find_rule_hits(con, rules)
    anomaly = score_sessions(con, now=_window_end(con, now), window_days=window_days,
                             labelled=load_labelled_normal(con, tables))
    external = _external_findings(con, tables)
    suppressions = load_suppressions(con, tables)
    scores = build_session_scores(con, pa.concat_tables([hits, external]), anomaly.scores, suppressions)
    previous = con.sql("select * exclude (status, status_by, status_note, status_at, close_reason) from alerts "
                       "where session_id is not null").to_arrow_table() if "alerts" in tables else None
    if previous is not None and "rule_ids" in previous.column_names:
        previous = previous.select(["alert_key", "agent_id", "session_id", "level", "title", "rule_ids",
                                    "risk_score", "first_seen_at", "last_seen_at"])
    alerts = build_alerts(con, scores, previous, now)
    findings = pa.concat_tables([hits, _anomaly_findings(con, anomaly.scores)])
    return {"findings": findings, "session_scores": scores, "alerts": alerts, "anomaly_models": anomaly.models,
            "suppressions": suppressions, "previous_alerts": previous}


def _window_end(con: duckdb.DuckDBPyConnection, now: datetime) -> datetime:
    # the models' window ends at the latest session that started before `now` (replayed or old logs
    # still get a baseline)
    (latest,) = con.sql("select max(started_at) from detect_sessions where started_at <= ?",
                        params=[now]).fetchall()[0]
    return min(now, latest + timedelta(microseconds=1)) if latest is not None else now


def _external_findings(con: duckdb.DuckDBPyConnection, tables: set[str]) -> pa.Table:
    """Session-level findings other writers committed (`verification_findings`, ...) count in the score."""
    others = sorted(t for t in tables if t.endswith("_findings"))
    if not others:
        return FINDINGS_SCHEMA.empty_table()
    union = " union all by name ".join(f"select * from {t}" for t in others)
    columns = ", ".join(f'"{c}"' for c in FINDINGS_SCHEMA.names)
    rows = con.sql(f"select {columns} from ({union}) where session_id is not null").to_arrow_table()
    return rows.cast(FINDINGS_SCHEMA)


def _anomaly_findings(con: duckdb.DuckDBPyConnection, scores: pa.Table) -> pa.Table:
    con.register("anomaly_rows", scores.filter(pc.greater_equal(scores["anomaly_score"], ANOMALY_FINDING_MIN)))
    rows = con.sql("""
        select 'anomaly' as source, 'anomaly:' || a.top_features[1].feature as rule_id,
            'Session unusual for its agent' as title,
            case when a.anomaly_score >= 0.8 then 'high' else 'medium' end as level,
            a.agent_id, a.session_id, s.started_at as ts, []::varchar[] as evidence_event_ids,
            array_to_string(list_transform(a.top_features, lambda t: t.feature || ' ' || printf('%.3g', t.value)
                || ' vs ' || printf('%.3g', t.baseline)), '; ') as detail,
            ['control.telemetry', 'pattern.anomaly'] as tags
        from anomaly_rows a join detect_sessions s using (agent_id, session_id)
    """).to_arrow_table()
    con.unregister("anomaly_rows")
    return with_finding_ids(rows)


def _summary(rules: list[Rule], outputs: dict[str, Any], tables: set[str]) -> dict[str, int]:
    scores, alerts, previous = outputs["session_scores"], outputs["alerts"], outputs["previous_alerts"]
    known = set(previous["alert_key"].to_pylist()) if previous is not None else set()
    flagged = pc.sum(scores["flagged"]).as_py() or 0
    return {
        "count_rules": len(rules), "count_sessions": scores.num_rows, "count_findings": outputs["findings"].num_rows,
        "count_flagged": flagged, "count_alerts": alerts.num_rows,
        "count_new_alerts": sum(1 for k in alerts["alert_key"].to_pylist() if k not in known),
        "count_suppressed": outputs["suppressions"].num_rows,
    }
