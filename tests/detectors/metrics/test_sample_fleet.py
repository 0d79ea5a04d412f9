"""On the sample fleet, each scripted incident moves the metric it should, beyond every normal session
of the same agent; hard negatives stay where normal sessions are."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from agentwatch.detectors.metrics.models import build_metrics
from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.inventory import load_inventory
from agentwatch.lake import Lake
from tests.support.paths import SAMPLE

# scenario -> (metric, +1 if incidents raise it, -1 if they lower it); forged approvals are caught by
# the signature check the metrics build runs (detectors/metrics/verification.py).
MOVES = {
    "db_wipe": ("count_destructive_actions", +1),
    "file_deletion": ("count_destructive_actions", +1),
    "extortion": ("count_privilege_actions", +1),
    "prompt_injection": ("count_untrusted_out_of_scope_sink_calls", +1),
    "goal_drift": ("goal_drift_level", +1),
    "scope_creep": ("count_out_of_scope_resources", +1),
    "runaway_delegation": ("spawn_tree_height", +1),
    "tool_loop": ("max_tool_repeat", +1),
    "unapproved_action": ("oversight_coverage", -1),
    "forged_approval": ("count_approval_invalid_signature", +1),
    "telemetry_dark": ("telemetry_coverage", -1),
}
QUIET = {
    "hard_negative_new_payee": "count_untrusted_out_of_scope_sink_calls",
    "hard_negative_approved_migration": "oversight_coverage",
    "hard_negative_task_change": "goal_drift_level",
    "hard_negative_wide_research": "spawn_tree_height",
}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    lake = tmp_path_factory.mktemp("lake")
    ingest_paths(lake, [SAMPLE], now=datetime(2026, 11, 24, tzinfo=UTC))  # native and OTLP files
    con = Lake(lake).connect(hardened=False)
    build_metrics(con, load_inventory(SAMPLE / "agents.yaml"))
    con.execute("create table labels as select * from read_csv(?)", [str(SAMPLE / "labels.csv")])
    return con


def incidents_and_normal(con: duckdb.DuckDBPyConnection, scenario: str, metric: str) -> tuple[list, list]:
    """The metric of each root session of the scenario, and of the normal sessions of the same agents."""
    cursor = con.execute(f"""
        with labelled as (select sessions.*, labels.scenario from sessions join labels using (session_id))
        select scenario = ? as is_incident, {metric} as value
        from labelled
        where (scenario = ? and spawn_depth = 0)
            or (scenario = 'normal' and agent_id in (select agent_id from labelled where scenario = ?))
    """, [scenario, scenario, scenario])
    found = cursor.fetchall()
    return [v for hit, v in found if hit], [v for hit, v in found if not hit and v is not None]


@pytest.mark.parametrize("scenario", sorted(MOVES))
def test_each_incident_moves_its_metric_beyond_every_normal_session(sample, scenario):
    metric, direction = MOVES[scenario]
    incidents, normal = incidents_and_normal(sample, scenario, metric)
    assert incidents and normal
    if direction > 0:
        assert min(incidents) > max(normal)
    else:
        assert max(incidents) < min(normal)


@pytest.mark.parametrize("scenario", sorted(QUIET))
def test_hard_negatives_stay_within_the_normal_range(sample, scenario):
    metric = QUIET[scenario]
    incidents, normal = incidents_and_normal(sample, scenario, metric)
    assert incidents
    assert all(min(normal) <= value <= max(normal) for value in incidents)
