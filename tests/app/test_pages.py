"""Every page of the app through Streamlit's AppTest: over a lake with data (the sample fleet ingested
and measured, plus contract-shaped detector, risk and escalation tables), and over lakes that are
empty or not yet as far along (no lake, events only, metrics but no detections)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.lake import Lake
from tests.app.app_lake import INVENTORY, NOW, SAMPLE, add_detections, copy_lake, measured_lake
from tests.support.paths import ROOT

APP = ROOT / "app" / "streamlit_app.py"
PAGES = ("fleet", "flagged", "session", "rules", "hunt")


@pytest.fixture(scope="module")
def full_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = measured_lake(tmp_path_factory.mktemp("full") / "lake")
    add_detections(lake)
    return lake


@pytest.fixture(scope="module")
def measured_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return measured_lake(tmp_path_factory.mktemp("measured") / "lake")


@pytest.fixture(scope="module")
def events_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("events") / "lake"
    ingest_paths(lake, [SAMPLE], now=NOW)
    return lake


def open_page(monkeypatch: pytest.MonkeyPatch, lake: Path, page: str, inventory: Path | None = INVENTORY,
              **query: str) -> AppTest:
    """The app over `lake`, switched to one page (with query parameters) and run."""
    monkeypatch.setenv("AGENTWATCH_LAKE", str(lake))
    if inventory:
        monkeypatch.setenv("AGENTWATCH_INVENTORY", str(inventory))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(query)
    at.run()
    if page != "fleet":
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def infos(at: AppTest) -> str:
    return " ".join(i.value for i in at.info)


# a dataframe of a page, told apart by columns only it has
FRAMES = {
    "fleet_sessions": ("sessions", "tool_calls", "mean_goal_drift"), "inventory": ("owner", "purpose"),
    "quadrants": ("model1_declared",), "gaps": ("gap",), "risk_findings": ("rule_id", "detail"),
    "queue": ("alert_key", "status_note"), "timeline": ("evidence", "seq", "event_type"),
    "reasons": ("kind", "id", "evidence"), "resources": ("out_of_scope", "first_step"),
    "normal": ("this_session", "median"), "by_rule": ("findings", "first_at"), "control": ("state", "reason"),
    "outcomes": ("outcome", "alerts"), "attempts": ("attempt", "outcome", "detail"),
    "hunt_table": ("count_out_of_scope_resources",),
}


def frame(at: AppTest, name: str):
    found = [d.value for d in at.dataframe if set(FRAMES[name]) <= set(d.value.columns)]
    assert len(found) == 1, f"{len(found)} dataframes look like {name!r}"
    return found[0]


def alerts(lake: Path):
    return Lake(lake).connect().execute("select * from alerts").df()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_says_what_to_run_when_there_is_no_lake(monkeypatch, tmp_path, page) -> None:
    at = open_page(monkeypatch, tmp_path / "nowhere", page)
    assert "There is no lake here yet" in infos(at) and "agentwatch ingest" in infos(at)
    assert not at.dataframe


@pytest.fixture(scope="module")
def empty_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("empty")
    (root / "nothing.jsonl").write_text("")
    lake = root / "lake"
    ingest_paths(lake, [root / "nothing.jsonl"], now=NOW)
    assert Lake(lake).exists()
    return lake


@pytest.mark.parametrize("page", PAGES)
def test_every_page_has_an_empty_state_on_a_lake_without_events(monkeypatch, empty_lake, page) -> None:
    at = open_page(monkeypatch, empty_lake, page)
    if page == "hunt":
        at.text_area[0].set_value("select count(*) as n from events")
        [run] = [b for b in at.button if b.label == "Run"]
        run.click().run()
        assert frame_with(at, "n")["n"].tolist() == [0]
    else:
        assert "run `agentwatch" in infos(at) or "agentwatch metrics" in infos(at)


def frame_with(at: AppTest, *columns: str):
    [found] = [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]
    return found


@pytest.mark.parametrize("page", ["flagged", "session"])
def test_pages_that_need_metrics_say_so_on_a_lake_of_events_only(monkeypatch, events_only, page) -> None:
    at = open_page(monkeypatch, events_only, page)
    assert "No session metrics in this lake yet: run `agentwatch metrics`" in infos(at)


def test_fleet_before_risk_shows_activity_and_what_owners_declared(monkeypatch, measured_only) -> None:
    at = open_page(monkeypatch, measured_only, "fleet")
    assert "run `agentwatch risk`" in infos(at)
    activity = frame(at, "fleet_sessions")
    assert sorted(activity["agent_id"]) == sorted(a for a in frame(at, "inventory")["agent_id"])
    (sessions,) = Lake(measured_only).connect().execute("select count(*) from sessions").fetchone()
    assert activity["sessions"].sum() == sessions


def test_fleet_before_risk_without_inventory_says_declared_scores_are_unknown(monkeypatch, measured_only) -> None:
    at = open_page(monkeypatch, measured_only, "fleet", inventory=None)
    assert any("No inventory given" in c.value for c in at.caption)


def test_fleet_places_the_seed_cicd_assistant_as_declared_and_shows_gaps(monkeypatch, full_lake) -> None:
    at = open_page(monkeypatch, full_lake, "fleet")
    assert len(at.get("vega_lite_chart")) == 3  # Model 1, Model 2, the six-dimension profile
    quadrants = frame(at, "quadrants").set_index("agent_id")
    assert quadrants.loc["cicd-assistant", "model1_declared"] == "Strategic Risk"
    assert quadrants.loc["cicd-assistant", "model2_declared"] == "Critical Risk"
    gaps = frame(at, "gaps")
    assert (gaps["gap"].abs() >= 1).all() and len(gaps) > 0
    assert set(frame(at, "risk_findings")["rule_id"]) == {"declared_vs_observed"}


def test_flagged_before_detect_says_to_run_detect(monkeypatch, measured_only) -> None:
    at = open_page(monkeypatch, measured_only, "flagged")
    assert "run `agentwatch detect`" in infos(at)


def test_flagged_queue_is_riskiest_first_and_hides_closed_alerts(monkeypatch, full_lake) -> None:
    at = open_page(monkeypatch, full_lake, "flagged")
    queue = frame(at, "queue")
    expected = alerts(full_lake)
    assert len(queue) == (expected["status"] != "closed").sum() > 0
    assert list(queue["risk_score"]) == sorted(queue["risk_score"], reverse=True)
    assert "closed" not in set(queue["status"])


def test_flagged_filters_by_level_rule_and_agent(monkeypatch, full_lake) -> None:
    at = open_page(monkeypatch, full_lake, "flagged")
    at.multiselect[2].select("critical").run()
    assert set(frame(at, "queue")["level"]) == {"critical"}
    at.multiselect[2].unselect("critical").run()
    at.multiselect[1].select("runaway_delegation").run()
    assert all("runaway_delegation" in r for r in frame(at, "queue")["rule_ids"])  # shown as JSON text
    at.multiselect[1].unselect("runaway_delegation").run()
    at.multiselect[0].select("cicd-assistant").run()
    assert set(frame(at, "queue")["agent_id"]) == {"cicd-assistant"}
    at.multiselect[3].set_value(["closed"]).run()
    assert set(frame(at, "queue")["status"]) == {"closed"}


def test_acknowledge_and_close_append_alert_state_and_never_touch_events(monkeypatch, full_lake, tmp_path) -> None:
    lake = copy_lake(full_lake, tmp_path / "lake")
    events_before = Lake(lake).table_files("events")
    at = open_page(monkeypatch, lake, "flagged")
    key = at.selectbox(key="alert_pick").value
    at.text_input[0].set_value("ana")
    at.text_area[0].set_value("looking into it")
    at.button(key="FormSubmitter:alert_state-Record decision").click().run()
    assert not at.exception
    state = alerts(lake).set_index("alert_key").loc[key]
    assert (state["status"], state["status_by"], state["status_note"]) == ("acknowledged", "ana", "looking into it")
    assert frame(at, "queue").set_index("alert_key").loc[key, "status"] == "acknowledged"

    at.selectbox(key="alert_pick").set_value(key)
    at.radio[0].set_value("close")
    at.selectbox[1].set_value("resolved")
    at.text_input[0].set_value("ana")
    at.text_area[0].set_value("revoked the token")
    at.button(key="FormSubmitter:alert_state-Record decision").click().run()
    state = alerts(lake).set_index("alert_key").loc[key]
    assert (state["status"], state["close_reason"]) == ("closed", "resolved")
    assert key not in set(frame(at, "queue")["alert_key"])
    assert Lake(lake).table_files("events") == events_before
    kinds = [e["kind"] for e in Lake(lake).entries()]
    assert kinds[-2:] == ["alert_state", "alert_state"]
    rows = Lake(lake).connect().execute(
        "select s.agent_id = a.agent_id, s.rule_ids = a.rule_ids from alert_state s join alerts a using (alert_key) "
        "where alert_key = ?", [key]).fetchall()
    assert rows == [(True, True), (True, True)]  # what the alert was about stays with each decision


def test_a_decision_without_an_analyst_name_is_refused(monkeypatch, full_lake, tmp_path) -> None:
    lake = copy_lake(full_lake, tmp_path / "lake")
    at = open_page(monkeypatch, lake, "flagged")
    at.text_input[0].set_value("  ")
    at.button(key="FormSubmitter:alert_state-Record decision").click().run()
    assert any("not recorded" in e.value for e in at.error)
    assert Lake(lake).entries()[-1]["kind"] == "test_detections"


def test_investigate_opens_the_session_of_the_alert(monkeypatch, full_lake) -> None:
    at = open_page(monkeypatch, full_lake, "flagged")
    alert = frame(at, "queue").set_index("alert_key").loc[at.selectbox(key="alert_pick").value]
    at.button[0].click().run()
    assert [t.value for t in at.title] == ["Session investigation"]
    assert at.selectbox[0].value == (alert["agent_id"], alert["session_id"])


def destructive_session(lake: Path) -> tuple[str, str]:
    con = Lake(lake).connect()
    return con.execute("select agent_id, session_id from sessions where count_destructive_actions > 0 "
                       "and count_out_of_scope_resources > 0 order by session_id limit 1").fetchone()


def test_session_highlights_the_evidence_of_every_reason(monkeypatch, full_lake) -> None:
    agent, session = destructive_session(full_lake)
    at = open_page(monkeypatch, full_lake, "session", agent=agent, session=session)
    con = Lake(full_lake).connect()
    evidence = set(con.execute(
        "select unnest(flatten(list(r.evidence_event_ids))) from (select unnest(reasons) as r from sessions "
        "where agent_id = ? and session_id = ?)", [agent, session]).fetchall())
    timeline = frame(at, "timeline")
    assert len(timeline) == con.execute("select count(*) from events where session_id = ?", [session]).fetchone()[0]
    assert set(timeline.loc[timeline["evidence"], "event_id"]) == {e for (e,) in evidence}
    assert {"destructive_action", "out_of_scope"} <= set(frame(at, "reasons")["id"])
    assert len(at.get("vega_lite_chart")) == 2  # goal drift, scope growth
    resources = frame(at, "resources")
    assert resources["out_of_scope"].any()
    normal = frame(at, "normal").set_index("feature")
    assert normal.loc["count_destructive_actions", "this_session"] > normal.loc["count_destructive_actions", "median"]


def test_session_evidence_only_toggle_keeps_only_evidence(monkeypatch, full_lake) -> None:
    agent, session = destructive_session(full_lake)
    at = open_page(monkeypatch, full_lake, "session", agent=agent, session=session)
    at.toggle[0].set_value(True).run()
    timeline = frame(at, "timeline")
    assert len(timeline) > 0 and timeline["evidence"].all()


def test_session_before_detect_shows_the_timeline_and_says_what_to_run(monkeypatch, measured_only) -> None:
    at = open_page(monkeypatch, measured_only, "session")
    assert "run `agentwatch detect`" in infos(at)
    assert len(frame(at, "timeline")) > 0 and not frame(at, "timeline")["evidence"].any()


def test_rules_page_shows_what_fired_escalations_and_paused_agents(monkeypatch, full_lake) -> None:
    at = open_page(monkeypatch, full_lake, "rules")
    con = Lake(full_lake).connect()
    by_rule = frame(at, "by_rule").set_index("rule_id")
    for rule, n in con.execute("select rule_id, count(*) from findings group by 1").fetchall():
        assert by_rule.loc[rule, "findings"] == n
    paused = frame(at, "control")
    assert list(paused["state"]) == ["paused"]
    assert any("1 agent(s) paused" in e.value for e in at.error)
    assert set(frame(at, "outcomes")["outcome"]) == {"ok"}  # the retry after the failed page succeeded
    assert len(frame(at, "attempts")) == con.execute("select count(*) from escalations").fetchone()[0]


def test_rules_page_before_detect_and_escalation_says_what_to_run(monkeypatch, measured_only) -> None:
    at = open_page(monkeypatch, measured_only, "rules")
    text = infos(at)
    assert "agentwatch detect" in text and "agentwatch escalate" in text and "No agent was ever paused" in text


def test_hunt_runs_a_saved_hunt_and_offers_csv(monkeypatch, full_lake) -> None:
    at = open_page(monkeypatch, full_lake, "hunt")
    at.selectbox[0].set_value("Sessions touching resources outside the agent's declared scope").run()
    assert "count_out_of_scope_resources" in at.text_area[0].value
    [run] = [b for b in at.button if b.label == "Run"]
    run.click().run()
    result = frame(at, "hunt_table")
    expected = Lake(full_lake).connect().execute(
        "select count(*) from sessions where count_out_of_scope_resources > 0").fetchone()[0]
    assert len(result) == expected > 0
    assert at.get("download_button")


@pytest.mark.parametrize("sql", [
    "copy (select 1) to '{out}'",
    "attach '{out}' as x",
    "select * from read_csv('/etc/passwd')",
    "select 1; copy (select 1) to '{out}'",
])
def test_hunt_refuses_anything_but_reading_the_lake(monkeypatch, full_lake, tmp_path, sql) -> None:
    out = tmp_path / "written.csv"
    at = open_page(monkeypatch, full_lake, "hunt")
    at.text_area[0].set_value(sql.format(out=out))
    [run] = [b for b in at.button if b.label == "Run"]
    run.click().run()
    assert any("refused or failed" in e.value for e in at.error)
    assert not out.exists() and not at.get("download_button")


@pytest.mark.parametrize(("sql", "said"), [
    ("select * from sesions", 'sesions does not exist! Did you mean "sessions"? in the query'),
    ("select 1; select 2", "2 statements given; run one query at a time in the query"),
])
def test_hunt_errors_read_like_the_sql_command(monkeypatch, full_lake, sql, said) -> None:
    at = open_page(monkeypatch, full_lake, "hunt")
    at.text_area[0].set_value(sql)
    [run] = [b for b in at.button if b.label == "Run"]
    run.click().run()
    assert any("refused or failed" in e.value for e in at.error)
    assert any(said in c.value for c in at.code), [c.value for c in at.code]


def test_hunt_without_a_lake_says_what_to_run(monkeypatch, tmp_path) -> None:
    at = open_page(monkeypatch, tmp_path / "none", "hunt")
    assert "no lake here yet" in infos(at).lower()


def fake_risk_model(monkeypatch: pytest.MonkeyPatch) -> list:
    """The risk stage's what-if API (issue 12: risk_model.load_controls, risk_report.agent_report) as stand-ins
    that record their calls; the app only wires and shows it."""
    calls: list = []
    model = types.ModuleType("agentwatch.detectors.risk.model")
    model.DEFAULT_HIGH = 3.0
    model.load_controls = lambda: {"segmentation": types.SimpleNamespace(name="segmentation", summary="jit access")}
    report = types.ModuleType("agentwatch.detectors.risk.report")

    def agent_report(row, controls, chosen, high):
        calls.append((row["agent_id"], list(chosen), high))
        place = {"vulnerability": 4.2, "model1": "Strategic Risk", "model2": "Critical Risk", "dimensions": {}}
        moved = {"vulnerability": 2.5, "model1": "Safe Optimization", "model2": "Managed Risk", "dimensions": {}}
        return {"measured": place, "declared": place, "what_if": {"measured": moved, "declared": moved}}

    report.agent_report = agent_report
    monkeypatch.setitem(sys.modules, "agentwatch.detectors.risk.model", model)
    monkeypatch.setitem(sys.modules, "agentwatch.detectors.risk.report", report)
    return calls


def test_fleet_what_if_shows_where_the_risk_model_moves_an_agent(monkeypatch, full_lake) -> None:
    calls = fake_risk_model(monkeypatch)
    at = open_page(monkeypatch, full_lake, "fleet")
    at.selectbox(key="what_if_agent").set_value("cicd-assistant")
    at.multiselect(key="what_if_controls").select("segmentation").run()
    assert calls[-1] == ("cicd-assistant", ["segmentation"], 3.0)
    moved = frame_with(at, "when", "model1").set_index(["position", "when"])
    assert moved.loc[("measured", "now"), "model1"] == "Strategic Risk"
    assert moved.loc[("declared", "with the controls"), "model2"] == "Managed Risk"


def test_fleet_has_no_what_if_picker_when_the_risk_model_offers_none(monkeypatch, full_lake) -> None:
    for name in ("risk_model", "risk_report", "risk"):
        monkeypatch.setitem(sys.modules, f"agentwatch.detectors.{name}", None)  # import fails
    at = open_page(monkeypatch, full_lake, "fleet")
    assert "What if: apply controls" not in [s.value for s in at.subheader]


def test_a_commit_by_someone_else_shows_on_the_next_rerun(monkeypatch, full_lake, tmp_path) -> None:
    from agentwatch.app.data import record_alert_state

    lake = copy_lake(full_lake, tmp_path / "lake")
    at = open_page(monkeypatch, lake, "flagged")
    key = at.selectbox(key="alert_pick").value
    record_alert_state(str(lake), key, "acknowledged", "bo", "from the CLI")  # another process, same lake
    at.run()
    assert frame(at, "queue").set_index("alert_key").loc[key, "status"] == "acknowledged"
    assert any("status: acknowledged by bo" in c.value for c in at.code)


def test_a_runaway_session_shows_its_first_events_and_says_where_the_rest_are(monkeypatch, tmp_path) -> None:
    import orjson

    events = [{"ts": f"2026-11-20T10:{i // 60 % 60:02d}:{i % 60:02d}Z", "agent_id": "looper", "session_id": "loop",
               "seq": i, "event_type": "tool_call" if i % 2 else "tool_result", "tool_name": "poll",
               "tool_call_id": f"c{i // 2}", "text": None if i % 2 else "still waiting"} for i in range(1, 2201)]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "loop.jsonl").write_bytes(b"\n".join(orjson.dumps(e) for e in events) + b"\n")
    lake = measured_lake(tmp_path / "lake", [tmp_path / "in"])
    at = open_page(monkeypatch, lake, "session", agent="looper", session="loop")
    assert len(frame(at, "timeline")) == 2000
    assert any("2,200 of 2,200 events" in c.value for c in at.caption)
    assert any("Showing the first 2,000" in c.value for c in at.caption)


def test_rules_page_lists_the_catalog_the_detectors_stage_loads(monkeypatch, full_lake) -> None:
    from agentwatch.app import data

    module = types.ModuleType("agentwatch.detectors.detect.rules")
    module.BUILTIN_RULES_DIR = Path("/builtin")
    module.load_rules = lambda dirs, errors=None: [types.SimpleNamespace(
        id="destructive-action", title="Destructive action", level="critical", status="stable",
        tags=("attack.impact",), description="rm -rf and friends")] if list(dirs)[0] == Path("/builtin") else []
    monkeypatch.setitem(sys.modules, "agentwatch.detectors.detect.rules", module)
    data.rule_catalog.clear()
    at = open_page(monkeypatch, full_lake, "rules")
    catalog = frame_with(at, "rule_id", "description")
    assert catalog["rule_id"].tolist() == ["destructive-action"]
    monkeypatch.setitem(sys.modules, "agentwatch.detectors.detect.rules", None)
    data.rule_catalog.clear()
    at = open_page(monkeypatch, full_lake, "rules")
    assert any("No rule catalog" in c.value for c in at.caption)


@pytest.fixture(scope="module")
def risk_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample fleet measured and placed by the real risk model (`run_risk`)."""
    from agentwatch.detectors.risk.run import run_risk
    from agentwatch.inventory import load_inventory

    lake = measured_lake(tmp_path_factory.mktemp("risk") / "lake")
    run_risk(lake, inventory=load_inventory(INVENTORY), now=NOW)
    return lake


def test_fleet_over_the_real_risk_model_and_its_what_if_moves_the_seed_assistant(monkeypatch, risk_lake) -> None:
    at = open_page(monkeypatch, risk_lake, "fleet")
    quadrants = frame(at, "quadrants").set_index("agent_id")
    assert quadrants.loc["cicd-assistant", ["model1_declared", "model2_declared"]].tolist() == [
        "Strategic Risk", "Critical Risk"]
    assert len(frame_with(at, "rule_id", "detail")) > 0  # the risk model's own findings
    at.selectbox(key="what_if_agent").set_value("cicd-assistant")
    controls = at.multiselect(key="what_if_controls")
    for control in ("segmentation", "verification", "telemetry", "guardrails"):  # the framework's CI/CD remedy
        controls.select(control)
    at.run()
    moved = frame_with(at, "when", "model1").set_index(["position", "when"])
    assert moved.loc[("declared", "with the controls"), ["model1", "model2"]].tolist() == [
        "Safe Optimization", "Managed Risk"]


@pytest.fixture(scope="module")
def pipeline_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample fleet through the real stages on main: ingest, metrics, detect, risk."""
    from agentwatch.detectors.detect.run import run_detect
    from agentwatch.detectors.risk.run import run_risk
    from agentwatch.inventory import load_inventory

    lake = measured_lake(tmp_path_factory.mktemp("pipeline") / "lake")
    run_detect(lake, now=NOW)
    run_risk(lake, inventory=load_inventory(INVENTORY), now=NOW)
    return lake


@pytest.mark.parametrize("page", PAGES)
def test_every_page_over_the_real_detectors_and_risk_model(monkeypatch, pipeline_lake, page) -> None:
    top = Lake(pipeline_lake).connect().execute(
        "select agent_id, session_id from alerts where session_id is not null "
        "order by risk_score desc nulls last limit 1").fetchall()[0]
    at = open_page(monkeypatch, pipeline_lake, page, agent=top[0], session=top[1])
    assert at.dataframe, "the page shows data"
    if page == "flagged":
        assert len(frame(at, "queue")) > 0
    if page == "session":
        assert frame(at, "timeline")["evidence"].any()  # the real reasons name real evidence events
