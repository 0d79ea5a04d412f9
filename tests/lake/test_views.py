"""The catalog's joined views: `findings` unions every writer's findings, `alerts` unions `alerts`
and `risk_alerts` before joining the latest analyst state; `eval` on hand-made scores."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from agentwatch.detectors.detect.evaluate import evaluate
from agentwatch.detectors.detect.findings import FINDINGS_SCHEMA
from agentwatch.detectors.detect.run import ALERT_STATE_SCHEMA
from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.lake import Lake

T = datetime(2026, 3, 2, tzinfo=UTC)


def finding(source: str, rule_id: str, session_id: str | None) -> dict:
    return {"finding_id": f"{source}-{rule_id}", "source": source, "rule_id": rule_id, "title": rule_id,
            "level": "high", "agent_id": "a", "session_id": session_id, "ts": T, "evidence_event_ids": [],
            "detail": "", "tags": []}


def alert(key: str, session_id: str | None) -> dict:
    return {"alert_key": key, "agent_id": "a", "session_id": session_id, "level": "high", "title": key,
            "rule_ids": ["r"], "risk_score": 0.9, "first_seen_at": T, "last_seen_at": T}


def test_findings_and_alerts_views_union_every_writer(tmp_path):
    ingest_paths(tmp_path, [])
    lake = Lake(tmp_path)
    with lake.writer() as w:
        w.replace("findings", pa.Table.from_pylist([finding("rule", "r1", "s1")], schema=FINDINGS_SCHEMA))
        w.replace("risk_findings", pa.Table.from_pylist([finding("risk", "gap", None)], schema=FINDINGS_SCHEMA))
        w.replace("alerts", pa.Table.from_pylist([alert("k1", "s1")]))
        w.replace("risk_alerts", pa.Table.from_pylist([alert("k2", None)]))
        w.append("alert_state", pa.Table.from_pylist([
            {"alert_key": "k2", "status": "acknowledged", "by": "ana", "note": "n", "close_reason": None, "at": T,
             "agent_id": "a", "rule_ids": ["r"]}], schema=ALERT_STATE_SCHEMA))
        w.commit("test")
    con = lake.connect()
    assert con.execute("select source, rule_id from findings order by 1").fetchall() == [("risk", "gap"),
                                                                                         ("rule", "r1")]
    assert con.execute("select alert_key, status, status_by from alerts order by 1").fetchall() == [
        ("k1", "new", None), ("k2", "acknowledged", "ana")]


def test_eval_figures_on_hand_made_scores(tmp_path):
    ingest_paths(tmp_path, [])
    con = Lake(tmp_path).connect(hardened=False)
    con.execute("""create or replace view sessions as select * from (values
        ('a', 's1', date '2026-03-02', 0.9, true, [{'kind': 'rule', 'id': 'r1'}]),
        ('a', 's2', date '2026-03-02', 0.7, true, [{'kind': 'rule', 'id': 'r2'}]),
        ('a', 's3', date '2026-03-03', 0.1, false, []),
        ('b', 's4', date '2026-03-02', 0.2, false, [])
    ) t(agent_id, session_id, session_day, risk_score, flagged, reasons)""")
    labels = [{"session_id": "s1", "label": 1, "scenario": "x"}, {"session_id": "s2", "label": 0, "scenario": "n"},
              {"session_id": "s3", "label": 0, "scenario": "n"}, {"session_id": "s4", "label": 1, "scenario": "x"},
              {"session_id": "gone", "label": 1, "scenario": "x"}]
    result = evaluate(con, labels)
    assert (result.true_positives, result.false_positives, result.missing_sessions) == (1, 1, 1)
    assert result.precision == 0.5 and abs(result.recall - 1 / 3) < 1e-9
    assert result.agent_days == 3 and abs(result.false_positives_per_agent_day - 1 / 3) < 1e-9
    assert {s["scenario"]: s["flagged"] for s in result.per_scenario} == {"x": 1, "n": 1}
