"""`agentwatch risk` as an analyst uses it: the fleet table, JSON per agent, what-if, errors that say where."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentwatch.cli import cli
from agentwatch.detectors.metrics.run import run_metrics
from agentwatch.detectors.risk.run import risk_is_current, run_risk
from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.inventory import load_inventory
from agentwatch.lake import Lake
from tests.support.native_lines import line, write_lines
from tests.support.paths import SAMPLE

INVENTORY = str(SAMPLE / "agents.yaml")
FRAMEWORK = ["--what-if", "segmentation,verification", "--what-if", "telemetry", "--what-if", "guardrails"]


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lake")
    ingest_paths(root, [SAMPLE], now=datetime(2026, 11, 24, tzinfo=UTC))
    run_metrics(root, load_inventory(SAMPLE / "agents.yaml"))
    return root


def risk(lake: Path, *args: str, inventory: str | None = INVENTORY) -> str:
    options = ["--lake", str(lake), *(["--inventory", inventory] if inventory else []), "risk", *args]
    result = CliRunner().invoke(cli, options)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0
    return result.stdout


def agentwatch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from agentwatch.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=120)


def test_json_names_each_agent_with_quadrants_dimensions_and_evidence(lake):
    agents = json.loads(risk(lake, "--format", "json"))["agents"]
    assert [a["agent_id"] for a in agents] == sorted(load_inventory(INVENTORY))
    cicd = agents[0]
    assert cicd["declared"]["model1"] == "Strategic Risk" and cicd["declared"]["model2"] == "Critical Risk"
    assert set(cicd["measured"]["dimensions"]) == set(cicd["evidence"]) == {
        "access", "action", "autonomy", "oversight", "goal_stability", "monitoring"}
    assert {c["control"] for c in cicd["controls"]} == {"segmentation", "verification", "telemetry", "guardrails",
                                                         "escalation"}


def test_what_if_moves_the_declared_cicd_assistant_to_managed_risk_and_safe_optimization(lake):
    (cicd,) = json.loads(risk(lake, "--agent", "cicd-assistant", "--format", "json", *FRAMEWORK))["agents"]
    assert cicd["what_if"]["controls"] == ["segmentation", "verification", "telemetry", "guardrails"]
    assert (cicd["what_if"]["declared"]["model1"], cicd["what_if"]["declared"]["model2"]) == (
        "Safe Optimization", "Managed Risk")


def test_table_shows_every_agent_and_the_what_if_row(lake):
    out = risk(lake, *FRAMEWORK)
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["agent_id", "day", "decl"]
    assert sum(line.startswith("  what-if ") for line in lines) == 6
    assert "with segmentation, verification, telemetry, guardrails applied" in out
    assert "measured" in lines[-1]


def test_a_current_risk_run_is_shown_as_stored_and_update_measures_again(lake):
    risk(lake, "--update")
    stored = json.loads(risk(lake, "--format", "json", inventory=None))["agents"]
    assert all(a["is_declared"] for a in stored)   # read back, not re-measured without the inventory
    assert "as last measured" in risk(lake, inventory=None)
    again = json.loads(risk(lake, "--format", "json", "--update", inventory=None))["agents"]
    assert len(again) == 6
    assert all(a["is_declared"] and a["measured"]["model2"] for a in again)  # the inventory the lake remembers
    assert [a["measured"]["dimensions"] for a in again] == [a["measured"]["dimensions"] for a in stored]
    risk(lake, "--update")


def test_new_metrics_make_the_stored_risk_stale(tmp_path):
    root = tmp_path / "lake"
    ingest_paths(root, [SAMPLE / "native" / "support-agent" / "2026-11-09.jsonl.gz"], now=datetime(2026, 11, 24,
                 tzinfo=UTC))
    run_metrics(root, {})
    assert not risk_is_current(Lake(root))
    run_risk(Lake(root), inventory={}, now=datetime(2026, 11, 24, tzinfo=UTC))
    assert risk_is_current(Lake(root))
    ingest_paths(root, [SAMPLE / "native" / "support-agent" / "2026-11-10.jsonl.gz"], now=datetime(2026, 11, 24,
                 tzinfo=UTC))
    assert risk_is_current(Lake(root))      # events alone change nothing the model reads
    run_metrics(root, {})
    assert not risk_is_current(Lake(root))


def test_mistakes_exit_2_saying_where(lake, tmp_path):
    unknown = agentwatch("--lake", str(lake), "risk", "--what-if", "firewall")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("agentwatch: error: unknown control 'firewall'")
    assert "in --what-if" in unknown.stderr
    missing = agentwatch("--lake", str(lake), "risk", "--agent", "nobody")
    assert (missing.returncode, "in --agent" in missing.stderr) == (2, True)
    empty = agentwatch("--lake", str(tmp_path / "none"), "risk", "--update")
    assert empty.returncode == 2 and "no lake here" in empty.stderr and "Traceback" not in empty.stderr


def test_hostile_agent_ids_are_printed_inert(tmp_path):
    root = tmp_path / "lake"
    hostile = "evil\x1b[31m\u202eagent"
    ingest_paths(root, [write_lines(tmp_path / "a.jsonl", [line(seq=1, agent_id=hostile), line(seq=2,
                 agent_id=hostile, event_type="user_prompt", text="hi")])], now=datetime(2026, 11, 24, tzinfo=UTC))
    run_metrics(root, {})
    table = risk(root, inventory=None)
    assert "\x1b" not in table and "\u202e" not in table and "evil\\u001b[31m\\u202eagent" in table
    as_json = risk(root, "--format", "json", inventory=None)
    assert as_json.isascii() and json.loads(as_json)["agents"][0]["agent_id"] == hostile
