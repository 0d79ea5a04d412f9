"""Analysts' feedback end to end on the sample fleet: detect, close an anomaly alert as a false positive
with the CLI, detect again: the closed session is a labelled normal example of its agent's model, its
score and that of a session like it drop, their reasons say why, nothing else moves, and it repeats."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from agentwatch.cli import cli
from agentwatch.detectors.detect.run import run_detect
from agentwatch.lake import Lake
from tests.detectors.detect.detect_support import detected_sample_lake

SCORES = "select session_id, anomaly_score, risk_score, flagged, reasons from sessions order by session_id"


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return detected_sample_lake(tmp_path_factory.mktemp("lake"))


def scores(lake: Lake) -> dict[str, tuple]:
    return {row[0]: row[1:] for row in lake.connect().execute(SCORES).fetchall()}


def test_a_closed_false_positive_becomes_a_labelled_example_that_lowers_scores_and_says_so(lake: Lake) -> None:
    # the cicd assistant's two drift sessions: alerts raised by the anomaly model alone
    drift = lake.connect().execute(
        "select a.alert_key, a.session_id from alerts a join sessions s using (agent_id, session_id) "
        "where a.agent_id = 'cicd-assistant' and a.rule_ids = ['anomaly:goal_drift_level'] "
        "order by s.anomaly_score desc").fetchall()
    assert len(drift) == 2
    (key, closed), (_, alike) = drift
    before = scores(lake)
    assert before[closed][2] and before[alike][2] and before[alike][0] < before[closed][0]

    out = CliRunner().invoke(cli, ["--lake", str(lake.root), "close", key, "--by", "ana", "--reason",
                                   "false_positive", "--note", "drift is this task's nature"])
    assert out.exit_code == 0, out.output
    run_detect(lake, rules_dirs=[], now=datetime(2026, 11, 25, tzinfo=UTC))
    after = scores(lake)

    for session in (closed, alike):
        anomaly, risk, flagged, reasons = after[session]
        assert anomaly < 0.1 and risk < 0.1 and not flagged
        [said] = [r for r in reasons if r["id"] == "anomaly:labelled-normal"]
        assert said["kind"] == "feedback"
        assert said["text"].startswith(f"anomaly {before[session][0]:.2f} lowered to {anomaly:.2f}: judged "
                                       f"against session {closed}")
        assert "by ana: drift is this task's nature" in said["text"]
    changed = {s for s in before if before[s] != after[s]}
    assert {closed, alike} <= changed
    agents = dict(lake.connect().execute("select session_id, agent_id from sessions").fetchall())
    assert {agents[s] for s in changed} == {"cicd-assistant"}  # a label speaks for its own agent only
    for session in changed:  # every changed score says feedback changed it
        assert any(r["kind"] == "feedback" for r in after[session][3]), session
    model = lake.connect().execute("select count_labelled from anomaly_models "
                                   "where model = 'agent:cicd-assistant'").fetchall()
    assert model == [(1,)]

    run_detect(lake, rules_dirs=[], now=datetime(2026, 11, 26, tzinfo=UTC))
    assert scores(lake) == after  # deterministic
