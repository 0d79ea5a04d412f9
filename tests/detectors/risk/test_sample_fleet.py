"""On the sample fleet: measured dimensions ordered as the agents' jobs are, incidents moving the
right dimension on the day they happen, gaps as findings, quadrant moves as alerts."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from statistics import median

import duckdb
import polars as pl
import pytest

from agentwatch.detectors.metrics.run import run_metrics
from agentwatch.detectors.risk.findings import FINDINGS_SCHEMA
from agentwatch.detectors.risk.model import place
from agentwatch.detectors.risk.run import run_risk
from agentwatch.errors import ConfigError, LakeError
from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.inventory import DIMENSIONS, load_inventory
from agentwatch.lake import Lake
from tests.detectors.metrics.metrics_support import rows
from tests.support.paths import SAMPLE

NOW = datetime(2026, 11, 24, tzinfo=UTC)
INVERTED = {"oversight", "goal_stability", "monitoring"}
# scenario -> dimensions its sessions make riskier on the day they happen
MOVES = {
    "db_wipe": ("action", "oversight"),
    "file_deletion": ("action",),
    "extortion": ("access", "action", "oversight"),
    "prompt_injection": ("access", "goal_stability"),
    "goal_drift": ("goal_stability",),
    "scope_creep": ("access",),
    "runaway_delegation": ("autonomy",),
    "tool_loop": ("autonomy", "goal_stability"),
    "unapproved_action": ("oversight",),
    "telemetry_dark": ("monitoring",),
}
# hard negative -> the dimension it must leave where normal days are
QUIET = {
    "hard_negative_new_payee": "goal_stability",
    "hard_negative_approved_migration": "oversight",
    "hard_negative_task_change": "goal_stability",
    "hard_negative_deploy_polling": "goal_stability",
}


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    root = tmp_path_factory.mktemp("lake")
    inventory = load_inventory(SAMPLE / "agents.yaml")
    ingest_paths(root, [SAMPLE], now=NOW)
    run_metrics(root, inventory)
    run_risk(Lake(root), inventory=inventory, now=NOW)
    return Lake(root)


@pytest.fixture
def fleet(lake: Lake) -> tuple[Lake, duckdb.DuckDBPyConnection]:
    """The lake and a fresh connection (a re-run replaces files) with the labels and each day's scenarios."""
    con = lake.connect(hardened=False)
    con.execute("create table labels as select * from read_csv(?)", [str(SAMPLE / "labels.csv")])
    con.execute("""create table day_scenarios as
        select agent_id, session_day as day, list(distinct scenario) as scenarios
        from sessions join labels using (session_id) group by all""")
    return lake, con


def risk_rows(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return rows(con, "select r.*, d.scenarios from agent_risk r join day_scenarios d using (agent_id, day)")


def riskier(dim: str, a: int, b: int) -> bool:
    return a < b if dim in INVERTED else a > b


def clean_days(table: list[dict], agent_id: str) -> list[dict]:
    return [r for r in table if r["agent_id"] == agent_id and r["scenarios"] == ["normal"]]


def typical(table: list[dict], agent_id: str, dim: str) -> float:
    return median(r[f"measured_{dim}"] for r in clean_days(table, agent_id))


def test_every_agent_day_is_measured_on_the_scale(fleet):
    _, con = fleet
    table = risk_rows(con)
    assert len(table) == con.execute("select count(distinct (agent_id, session_day)) from sessions").fetchone()[0]
    assert all(1 <= r[f"measured_{d}"] <= 5 for r in table for d in DIMENSIONS)
    assert all(r["is_declared"] for r in table)


@pytest.mark.parametrize(("dim", "higher", "lower"), [
    ("action", "sre-agent", "support-agent"),         # shell, cloud CLI, infra applies vs tickets and refunds
    ("action", "cicd-assistant", "research-agent"),   # pushes, deploys, shell vs reading and posting
    ("access", "cicd-assistant", "support-agent"),    # repos, paths, hosts vs ticket tools only
    ("access", "sre-agent", "support-agent"),
    ("autonomy", "support-agent", "data-analyst"),    # long tool chains per request vs one query at a time
])
def test_typical_days_order_agents_as_their_jobs_do(fleet, dim, higher, lower):
    table = risk_rows(fleet[1])
    assert typical(table, higher, dim) > typical(table, lower, dim)


def test_delegation_trees_make_the_research_agent_the_most_autonomous_on_their_days(fleet):
    table = risk_rows(fleet[1])
    runaway = [r for r in table if "runaway_delegation" in r["scenarios"]]
    assert runaway and all(r["measured_autonomy"] == 5 for r in runaway)
    assert all(typical(table, agent, "autonomy") < 5 for agent in {r["agent_id"] for r in table})


@pytest.mark.parametrize("scenario", sorted(MOVES))
def test_each_incident_makes_its_dimensions_riskier_than_every_normal_day(fleet, scenario):
    table = risk_rows(fleet[1])
    hits = [r for r in table if scenario in r["scenarios"]]
    assert hits
    for row in hits:
        normal = clean_days(table, row["agent_id"])
        assert normal
        for dim in MOVES[scenario]:
            worst_normal = (min if dim in INVERTED else max)(r[f"measured_{dim}"] for r in normal)
            assert riskier(dim, row[f"measured_{dim}"], worst_normal), (row["agent_id"], row["day"], dim)


@pytest.mark.parametrize("scenario", sorted(QUIET))
def test_hard_negatives_leave_their_dimension_in_the_normal_range(fleet, scenario):
    table = risk_rows(fleet[1])
    dim = QUIET[scenario]
    hits = [r for r in table if scenario in r["scenarios"] and set(r["scenarios"]) <= {scenario, "normal"}]
    assert hits
    for row in hits:
        normal = [r[f"measured_{dim}"] for r in clean_days(table, row["agent_id"])]
        assert min(normal) <= row[f"measured_{dim}"] <= max(normal), (row["agent_id"], row["day"])


def test_evidence_names_the_sessions_that_drove_each_dimension(fleet):
    _, con = fleet
    (row,) = rows(con, """select r.evidence from agent_risk r join day_scenarios d using (agent_id, day)
                          where agent_id = 'sre-agent' and list_contains(scenarios, 'extortion') limit 1""")
    evidence = json.loads(row["evidence"])
    assert set(evidence) == set(DIMENSIONS)
    extortion = {r["session_id"] for r in rows(con, "select session_id from labels where scenario = 'extortion'")}
    assert set(evidence["access"]["sessions"][:1]) <= extortion
    assert evidence["access"]["metrics"]["count_privilege_actions"] > 0
    assert set(evidence["oversight"]["sessions"][:1]) <= extortion


def test_quadrants_in_the_table_are_the_model_applied_to_its_scores(fleet):
    for r in rows(fleet[1], "select * from agent_risk"):
        for kind in ("measured", "declared"):
            placed = place({d: r[f"{kind}_{d}"] for d in DIMENSIONS}, r["business_value"])
            assert (r[f"model1_{kind}"], r[f"model2_{kind}"]) == (placed["model1"], placed["model2"])
            assert r[f"vulnerability_{kind}"] == pytest.approx(placed["vulnerability"])


def test_declared_scores_give_the_framework_quadrants_for_the_cicd_assistant(fleet):
    (r,) = rows(fleet[1], "select distinct model1_declared, model2_declared from agent_risk "
                          "where agent_id = 'cicd-assistant'")
    assert r == {"model1_declared": "Strategic Risk", "model2_declared": "Critical Risk"}


def test_a_standing_gap_is_one_finding_per_run_of_days(fleet):
    _, con = fleet
    runs = rows(con, """select detail->>'first_day' as first_day, (detail->>'count_days')::int as days
        from risk_findings where agent_id = 'mail-assistant' and rule_id = 'risk.autonomy_above_declared'""")
    gap_days = rows(con, """select count(*) as n from agent_risk
        where agent_id = 'mail-assistant' and measured_autonomy - declared_autonomy >= 2""")[0]["n"]
    assert len(runs) < gap_days == sum(r["days"] for r in runs)


def test_gaps_are_findings_with_the_findings_columns(fleet):
    _, con = fleet
    findings = rows(con, "select * from risk_findings")
    columns = ["finding_id", "source", "rule_id", "title", "level", "agent_id", "session_id", "ts",
               "evidence_event_ids", "detail", "tags"]
    assert [d[0] for d in con.execute("select * from risk_findings limit 0").description][:len(columns)] == columns
    assert findings and all(f["source"] == "risk" and f["session_id"] is None for f in findings)
    assert len({f["finding_id"] for f in findings}) == len(findings)
    linked = rows(con, """
        select f.finding_id, count(e.event_id) as found, len(any_value(f.evidence_event_ids)) as listed
        from risk_findings f, unnest(f.evidence_event_ids) as u(event_id)
        left join events e on e.event_id = u.event_id and e.agent_id = f.agent_id and e.event_type = 'tool_call'
            and cast(e.ts as date) between cast(f.detail->>'first_day' as date) and cast(f.detail->>'last_day' as date)
        group by f.finding_id""")
    assert len(linked) == len(findings) and all(r["found"] == r["listed"] > 0 for r in linked)
    unapproved = rows(con, """select f.* from risk_findings f join day_scenarios d
        on d.agent_id = f.agent_id and d.day = cast(f.ts as date)
        where list_contains(d.scenarios, 'unapproved_action') and f.rule_id = 'risk.oversight_below_declared'""")
    assert {f["agent_id"] for f in unapproved} == {"mail-assistant"}  # cicd declared oversight 1: no gap below it
    assert all("verification" in f["tags"] for f in unapproved)


def test_moves_into_critical_risk_are_alerts_on_incident_days(fleet):
    _, con = fleet
    alerts = rows(con, "select a.*, d.scenarios from risk_alerts a join day_scenarios d using (agent_id, day)")
    assert alerts
    critical = {(a["agent_id"], a["scenarios"] != ["normal"]) for a in alerts if a["quadrant"] == "Critical Risk"}
    assert ("sre-agent", True) in critical and ("cicd-assistant", True) in critical
    assert all(a["scenarios"] != ["normal"] for a in alerts if a["agent_id"] in ("sre-agent", "cicd-assistant"))


def test_a_rerun_keeps_finding_ids_and_alert_keys(fleet):
    lake, con = fleet
    before = (rows(con, "select finding_id from risk_findings order by 1"),
              rows(con, "select alert_key, last_seen_at from risk_alerts order by 1"))
    run_risk(lake, inventory=load_inventory(SAMPLE / "agents.yaml"), now=NOW, memory_limit="256MB")
    after = lake.connect()
    assert before == (rows(after, "select finding_id from risk_findings order by 1"),
                      rows(after, "select alert_key, last_seen_at from risk_alerts order by 1"))


def test_risk_connects_under_the_memory_limit_it_is_given(fleet):
    lake, _ = fleet
    with pytest.raises(ConfigError, match="memory_limit"):
        run_risk(lake, inventory=load_inventory(SAMPLE / "agents.yaml"), now=NOW, memory_limit="lots")


def test_agents_without_an_inventory_entry_are_measured_and_marked_undeclared(fleet, tmp_path):
    lake, _ = fleet
    inventory = {k: v for k, v in load_inventory(SAMPLE / "agents.yaml").items() if k != "research-agent"}
    run = run_risk(lake, inventory=inventory, now=NOW)
    try:
        assert run.undeclared_agents == ("research-agent",)
        research = rows(lake.connect(), "select * from agent_risk where agent_id = 'research-agent'")
        assert len(research) == 14
        assert all(not r["is_declared"] and r["declared_access"] is None and r["model1_measured"] is None
                   and r["model2_measured"] is not None and r["measured_autonomy"] >= 1 for r in research)
        assert rows(lake.connect(), "select * from risk_findings where agent_id = 'research-agent'") == []
    finally:
        run_risk(lake, inventory=load_inventory(SAMPLE / "agents.yaml"), now=NOW)


@pytest.mark.parametrize("tag", ["verification", "control.verification"])  # the rule catalog namespaces its tags
def test_rule_findings_count_against_the_dimensions_their_control_protects(fleet, tmp_path, tag):
    source, con = fleet
    lake = Lake(shutil.copytree(source.root, tmp_path / "lake"))
    (day,) = rows(con, """select r.day, r.first_started_at, r.measured_oversight, r.measured_access
        from agent_risk r join day_scenarios d using (agent_id, day)
        where agent_id = 'support-agent' and d.scenarios = ['normal'] order by day limit 1""")
    finding = {"finding_id": "f-forged-1", "source": "rule", "rule_id": "forged_approval", "title": "forged",
               "level": "high", "agent_id": "support-agent", "session_id": "s1", "ts": day["first_started_at"],
               "evidence_event_ids": ["e1"], "detail": "", "tags": [tag, "gemini_cli"]}
    quiet = {**finding, "finding_id": "f-low", "level": "low", "tags": ["segmentation"]}
    with lake.writer() as writer:
        writer.replace("findings", pl.DataFrame([finding, quiet], schema=FINDINGS_SCHEMA))
        writer.commit("detect")
    run_risk(lake, inventory=load_inventory(SAMPLE / "agents.yaml"), now=NOW)
    (after,) = rows(lake.connect(), "select * from agent_risk where agent_id = 'support-agent' and day = ?",
                    [day["day"]])
    assert after["measured_oversight"] == day["measured_oversight"] - 1   # verification protects oversight
    assert after["measured_access"] == day["measured_access"]             # a low finding is no breach
    assert json.loads(after["evidence"])["oversight"]["findings"] == ["f-forged-1"]


def test_a_lake_without_session_metrics_says_so(tmp_path):
    root = tmp_path / "lake"
    ingest_paths(root, [SAMPLE / "native" / "support-agent" / "2026-11-09.jsonl.gz"], now=NOW)
    with pytest.raises(LakeError, match="no session metrics yet .* in .*lake"):
        run_risk(Lake(root), inventory={}, now=NOW)


def test_controls_in_place_must_be_configured_controls(lake):
    agent = load_inventory(SAMPLE / "agents.yaml")["sre-agent"]
    with pytest.raises(ConfigError, match="sre-agent: unknown control 'firewall'.* in inventory: controls"):
        run_risk(lake, inventory={"sre-agent": replace(agent, controls=("firewall",))}, now=NOW)


@pytest.mark.parametrize(("option", "value"), [("high", 5), ("high", 0.5), ("gap", 0)])
def test_thresholds_out_of_range_are_errors_naming_the_setting(lake, option, value):
    with pytest.raises(ConfigError, match=f"`risk_{option}` must be .* in risk_{option}"):
        run_risk(lake, inventory={}, now=NOW, **{option: value})
