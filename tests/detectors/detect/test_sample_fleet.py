"""Detection on the sample fleet: every scripted incident flagged with the rule or feature that fits
it, hard negatives quiet, precision >= 0.9; alerts keep their keys and analysts' state across runs,
and a false positive closed with a reason stops counting for that agent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from agentwatch.cli import cli
from agentwatch.detectors.detect.evaluate import evaluate, read_labels
from agentwatch.detectors.detect.run import run_detect
from agentwatch.detectors.detect.score import session_reasons
from agentwatch.errors import ConfigError
from agentwatch.lake import Lake
from tests.detectors.detect.detect_support import SAMPLE, detected_sample_lake

# scenario -> reasons of which at least one must be named in every session of it
EXPECTED = {
    "db_wipe": {"destructive-sql-unapproved", "mass-deletion", "destructive-on-production"},
    "file_deletion": {"mass-deletion", "source-tree-deletion"},
    "extortion": {"ransom-artifact"},
    "prompt_injection": {"injection-then-action", "untrusted-argument-to-outbound", "untrusted-out-of-scope-sink"},
    "goal_drift": {"anomaly:goal_drift_level"},
    "scope_creep": {"secret-access", "out-of-scope-resources"},
    "runaway_delegation": {"runaway-delegation"},
    "tool_loop": {"tool-loop"},
    "unapproved_action": {"unapproved-required-action", "force-push-protected-branch"},
    "telemetry_dark": {"telemetry-gap"},
}


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return detected_sample_lake(tmp_path_factory.mktemp("lake"))


def labelled(lake: Lake) -> list[tuple]:
    con = lake.connect(hardened=False)
    con.execute("create temp table labels as select * from read_csv(?)", [str(SAMPLE / "labels.csv")])
    return con.execute("select l.scenario, s.flagged, list_transform(s.reasons, lambda r: r.id), s.risk_score "
                       "from labels l join sessions s using (session_id)").fetchall()


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_every_incident_is_flagged_with_a_fitting_reason(lake, scenario):
    rows = [r for r in labelled(lake) if r[0] == scenario]
    assert rows
    for _, flagged, reasons, _ in rows:
        assert flagged and EXPECTED[scenario] & set(reasons), reasons


def test_hard_negatives_are_quiet_and_precision_is_at_least_0_9(lake):
    rows = labelled(lake)
    assert not [r for r in rows if r[0].startswith("hard_negative") and r[1]]
    result = evaluate(lake.connect(), read_labels(SAMPLE / "labels.csv"))
    assert result.precision >= 0.9 and result.recall >= 0.9 and result.roc_auc >= 0.95
    assert result.missing_sessions == 0


def test_reasons_carry_evidence_events_of_their_session(lake):
    con = lake.connect()
    (session_id,) = con.execute("select session_id from sessions where list_contains(list_transform(reasons, "
                                "lambda r: r.id), 'ransom-artifact') limit 1").fetchall()[0]
    reasons = session_reasons(con, session_id)
    ransom = next(r for r in reasons if r["id"] == "ransom-artifact")
    assert ransom["level"] == "critical" and ransom["evidence"]
    assert all(e["event_type"] == "tool_call" and e["tool_name"] == "shell" for e in ransom["evidence"])
    assert any("BTC" in e["text"] for e in ransom["evidence"])


def test_scores_are_in_range_and_models_are_persisted(lake):
    con = lake.connect()
    (low, high, unflagged_above) = con.execute(
        "select min(risk_score), max(risk_score), count(*) filter (where not flagged and risk_score >= 0.5) "
        "from sessions").fetchall()[0]
    assert low >= 0 and high <= 1 and unflagged_above == 0
    models = con.execute("select kind, count(*), min(len(features)), min(count_sessions) from anomaly_models "
                         "group by kind order by kind").fetchall()
    assert models[0][0] == "agent" and models[0][1] == 6 and models[0][2] > 10 and models[0][3] >= 30
    assert models[1][:2] == ("fleet", 1)


def test_rerun_keeps_alert_keys_state_and_scores(lake):
    before = lake.connect().execute("select alert_key, first_seen_at from alerts order by 1").fetchall()
    scores = lake.connect().execute("select session_id, risk_score from sessions order by 1").fetchall()
    key = before[0][0]
    out = CliRunner().invoke(cli, ["--lake", str(lake.root), "ack", key[:10], "--by", "ana", "--note", "looking"])
    assert out.exit_code == 0, out.output
    run = run_detect(lake, rules_dirs=[], now=datetime(2026, 11, 25, tzinfo=UTC), memory_limit="256MB")
    assert run.count_new_alerts == 0
    con = lake.connect()
    assert con.execute("select alert_key, first_seen_at from alerts order by 1").fetchall() == before
    assert con.execute("select session_id, risk_score from sessions order by 1").fetchall() == scores
    assert con.execute("select status, status_by, status_note from alerts where alert_key = ?",
                       [key]).fetchall() == [("acknowledged", "ana", "looking")]


def test_detect_connects_under_the_memory_limit_it_is_given(lake):
    with pytest.raises(ConfigError, match="memory_limit"):
        run_detect(lake, rules_dirs=[], now=datetime(2026, 11, 25, tzinfo=UTC), memory_limit="lots")


def test_a_false_positive_closed_with_a_reason_stops_counting_for_that_agent(lake):
    con = lake.connect()
    key, agent_id, session_id = con.execute(
        "select a.alert_key, a.agent_id, a.session_id from alerts a join sessions s using (agent_id, session_id) "
        "where a.rule_ids = ['tool-loop', 'anomaly:max_identical_results'] or a.rule_ids = ['tool-loop'] "
        "order by a.alert_key limit 1").fetchall()[0]
    out = CliRunner().invoke(cli, ["--lake", str(lake.root), "close", key, "--by", "ana", "--reason",
                                   "false_positive", "--note", "retries are this agent's job"])
    assert out.exit_code == 0, out.output
    run_detect(lake, rules_dirs=[], now=datetime(2026, 11, 26, tzinfo=UTC))
    con = lake.connect()
    flagged, reasons = con.execute("select flagged, reasons from sessions where session_id = ?",
                                   [session_id]).fetchall()[0]
    assert not flagged
    feedback = [r for r in reasons if r["kind"] == "feedback"]
    assert feedback and "closed as a false positive" in feedback[0]["text"] and "ana" in feedback[0]["text"]
    assert con.execute("select status, close_reason from alerts where alert_key = ?", [key]).fetchall() == [
        ("closed", "false_positive")]
    other = con.execute("select count(*) from sessions where agent_id <> ? and flagged and list_contains("
                        "list_transform(reasons, lambda r: r.id), 'tool-loop')", [agent_id]).fetchall()[0][0]
    assert other >= 1  # other agents' loops still count


def test_alerts_command_filters_and_eval_prints_the_figures(lake):
    out = CliRunner().invoke(cli, ["--lake", str(lake.root), "alerts", "--status", "closed", "--format", "csv"])
    assert out.exit_code == 0 and out.output.count("\n") == 2 and ",closed," in out.output
    out = CliRunner().invoke(cli, ["--lake", str(lake.root), "eval", "--labels", str(SAMPLE / "labels.csv")])
    assert out.exit_code == 0 and "precision" in out.output and "recall at FPR 1%" in out.output
    assert "runaway_delegation" in out.output
