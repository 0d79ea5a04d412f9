"""The lake module: tables written through one writer, visible only once committed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from agentwatch.errors import LakeError
from agentwatch.lake import Lake
from agentwatch.lake.verify import verify_lake


def test_replace_and_append_are_visible_only_after_commit(lake: Path) -> None:
    store = Lake(lake)
    assert not store.exists()
    with store.writer() as w:
        w.replace("findings", pa.table({"finding_id": ["a", "b"], "level": ["high", "low"]}))
        w.append("alert_state", pl.DataFrame({"alert_key": ["k"], "status": ["acknowledged"]}))
        assert "findings" not in store.tables()
        w.commit("detect", extra={"rules": 2})
    assert store.tables() == {"findings", "alert_state"}
    con = store.connect()
    assert con.execute("select finding_id from findings order by 1").fetchall() == [("a",), ("b",)]
    assert store.entries()[-1]["kind"] == "detect" and store.entries()[-1]["rules"] == 2
    assert verify_lake(lake).problems == ()


def test_replace_removes_the_previous_content_and_append_keeps_it(lake: Path) -> None:
    store = Lake(lake)
    for run in range(2):
        with store.writer() as w:
            w.replace("findings", pa.table({"finding_id": [f"run{run}"]}))
            w.append("alert_state", pa.table({"alert_key": [f"run{run}"]}))
            w.commit("detect")
    con = store.connect()
    assert con.execute("select finding_id from findings").fetchall() == [("run1",)]
    assert con.execute("select count(*) from alert_state").fetchone() == (2,)
    assert len(store.table_files("findings")) == 1
    assert verify_lake(lake).problems == ()


def test_an_uncommitted_write_is_invisible_and_cleared_by_the_next_writer(lake: Path) -> None:
    store = Lake(lake)
    with store.writer() as w:
        w.replace("findings", pa.table({"finding_id": ["kept"]}))
        w.commit("detect")
    with store.writer() as w:
        w.replace("findings", pa.table({"finding_id": ["lost"]}))  # the writer dies before commit
    assert store.connect().execute("select finding_id from findings").fetchall() == [("kept",)]
    with store.writer():
        pass
    assert sorted(p.name for p in (lake / "findings").iterdir()) == [Path(store.table_files("findings")[0]).name]


def test_a_relation_streams_into_a_table(lake: Path) -> None:
    store = Lake(lake)
    with store.writer() as w:
        con = w.connection()
        w.replace("numbers", con.sql("select range as n from range(300000)"))
        w.commit("test")
    assert store.connect().execute("select count(*), sum(n)::bigint from numbers").fetchone() == (
        300000, 300000 * 299999 // 2)


def test_second_writer_is_refused_and_names_the_lake(lake: Path) -> None:
    store = Lake(lake)
    with store.writer(), pytest.raises(LakeError, match="another agentwatch process"), store.writer():
        pass


def test_events_cannot_be_rewritten_through_the_writer(lake: Path) -> None:
    with Lake(lake).writer() as w, pytest.raises(LakeError):
        w.replace("events", pa.table({"x": [1]}))


def test_require_names_a_missing_lake(tmp_path: Path) -> None:
    with pytest.raises(LakeError, match="no lake here") as info:
        Lake(tmp_path / "nowhere").require()
    assert str(tmp_path / "nowhere") in str(info.value)


def test_sessions_view_carries_scores_and_alerts_view_the_latest_state(lake: Path) -> None:
    store = Lake(lake)
    at = datetime(2026, 11, 20, tzinfo=UTC)
    with store.writer() as w:
        w.replace("sessions", pa.table({"agent_id": ["a", "a"], "session_id": ["s1", "s2"], "count_events": [3, 4]}))
        w.replace("session_scores", pa.table({"agent_id": ["a"], "session_id": ["s2"], "risk_score": [0.9],
                                              "flagged": [True]}))
        w.replace("alerts", pa.table({"alert_key": ["k1", "k2"], "agent_id": ["a", "a"]}))
        w.append("alert_state", pa.table({
            "alert_key": ["k1", "k1"], "status": ["acknowledged", "closed"], "by": ["ana", "bo"],
            "note": ["looking", "benign"], "close_reason": [None, "false_positive"],
            "at": [at, at.replace(hour=5)]}))
        w.commit("detect")
    con = store.connect()
    assert con.execute("select session_id, count_events, risk_score, flagged from sessions order by 1").fetchall() == [
        ("s1", 3, None, None), ("s2", 4, 0.9, True)]
    assert con.execute("select alert_key, status, status_by, close_reason from alerts order by 1").fetchall() == [
        ("k1", "closed", "bo", "false_positive"), ("k2", "new", None, None)]


def test_a_location_no_store_reads_is_refused_by_name() -> None:
    with pytest.raises(LakeError) as info:
        Lake("gs://bucket/lake")
    assert str(info.value) == "a lake is a local folder or an s3:// location, not gs:// in gs://bucket/lake"
