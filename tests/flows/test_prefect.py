"""Both flows end to end under Prefect's test harness (one temporary server for the whole module:
starting it costs ~12 s): task runs, names, retries on I/O only, the summary artifact (files, events,
quarantined, sessions flagged, alerts raised, escalations), inert logs, failure states.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.settings import (
    PREFECT_HOME,
    PREFECT_SERVER_ANALYTICS_ENABLED,
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    temporary_settings,
)
from prefect.testing.utilities import prefect_test_harness

from agentwatch.flows import pipeline, steps, tasks
from agentwatch.flows.context import build_context
from agentwatch.flows.guard import guard_flow
from agentwatch.flows.nightly import nightly_flow
from agentwatch.flows.pipeline import DirectRunner, PipelineStage, StepFailed, run_pipeline
from agentwatch.lake import Lake
from tests.detectors.escalate.escalation_support import http_receiver
from tests.flows.flow_support import SAMPLE, flow_settings, force_push_file, session_file, sessions_in

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def harness(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("prefect-home")
    with temporary_settings(updates={PREFECT_HOME: str(home), PREFECT_SERVER_ANALYTICS_ENABLED: False,
                                     PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: 180}), \
            prefect_test_harness(server_startup_timeout=180):
        yield


def flow_run_of(state):
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
        task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
        return run, {t.name: t for t in task_runs}


def log_messages(state) -> list[str]:
    with get_client(sync_client=True) as client:
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[state.state_details.flow_run_id])))
        return [log.message for log in logs]


def latest_artifact(key: str) -> str:
    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
                                           sort="CREATED_DESC", limit=1)
        return artifact.data


def test_nightly_on_the_sample_fleet_then_the_guard_pages_about_a_new_file(lake: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    playbooks = tmp_path / "playbooks.yml"
    with http_receiver() as receiver:
        playbooks.write_text("playbooks:\n  - id: page-release\n    match: {agents: [release-bot]}\n"
                             f"    actions:\n      - webhook: {{url: '{receiver.url}', format: json}}\n")
        settings = flow_settings(lake, sources=[str(logs)], inventory=str(SAMPLE / "agents.yaml"),
                                 playbooks=str(playbooks))
        state = nightly_flow(settings=settings, paths=[str(SAMPLE)], return_state=True)
        assert state.is_completed()
        summary = state.result()
        assert sum(s.summary.events_written for s in summary.steps if s.name == "ingest") == 19_804
        run, task_runs = flow_run_of(state)
        assert run.name == f"nightly lake={lake} paths=1"
        assert set(task_runs) == {"discover 1 named path(s)", "ingest 1/1: 84 files (2026-11-09.jsonl.gz and 83 more)",
                                  f"metrics {lake}", f"detect {lake}", f"risk {lake}", f"escalate {lake}"}
        assert all(t.state.is_completed() for t in task_runs.values())
        (flagged,) = Lake(lake).connect().execute("select count(*) from sessions where flagged").fetchone()
        markdown = latest_artifact("agentwatch-nightly")
        for row in ("| files discovered | 84 |", "| events written | 19,804 |", "| records quarantined | 0 |",
                    f"| sessions flagged | {flagged:,} |", f"| alerts raised (new) | {flagged:,} |",
                    "| escalations sent | 0 |", "| metrics: count_sessions | 1,163 |"):
            assert row in markdown, row

        force_push_file(logs / "late\x1b[2J.jsonl", "late-session", agent_id="release-bot")
        state = guard_flow(settings=settings, return_state=True)
        assert state.is_completed()
    run, task_runs = flow_run_of(state)
    assert run.name == f"guard lake={lake} sources=1+spool"
    assert "ingest 1/1: late\\u001b[2J.jsonl" in task_runs
    assert "late-session" in sessions_in(lake)
    [page] = receiver.bodies()
    assert page["alert"]["session_id"] == "late-session"
    markdown = latest_artifact("agentwatch-guard")
    for row in ("| events written | 3 |", "| alerts raised (new) | 1 |", "| escalations sent | 1 |"):
        assert row in markdown, row
    messages = log_messages(state)
    assert any("late\\u001b[2J.jsonl" in m for m in messages)
    assert not any("\x1b" in m for m in messages)


def test_a_failed_stage_fails_the_flow_run_with_its_reason(lake: Path, tmp_path: Path, monkeypatch) -> None:
    session_file(tmp_path / "logs" / "a.jsonl", "a")

    def explode(ctx):
        raise ValueError("rules folder unreadable")

    monkeypatch.setattr(pipeline, "NIGHTLY_STAGES", (*pipeline.NIGHTLY_STAGES, PipelineStage("explode", explode)))
    state = nightly_flow(settings=flow_settings(lake, sources=[str(tmp_path / "logs")]), return_state=True)
    assert state.is_failed()
    with pytest.raises(StepFailed, match="failed at step 'explode .*': ValueError: rules folder unreadable"):
        state.result()
    _, task_runs = flow_run_of(state)
    assert task_runs[f"explode {lake}"].state.is_failed()
    assert task_runs[f"explode {lake}"].run_count == 1  # not I/O: no retry
    assert task_runs[f"metrics {lake}"].state.is_completed()
    assert "# agentwatch nightly run: FAILED" in latest_artifact("agentwatch-nightly")
    assert sessions_in(lake) == {"a"}


def test_ingest_is_retried_on_io_errors_only(lake: Path, tmp_path: Path, monkeypatch) -> None:
    session_file(tmp_path / "logs" / "a.jsonl", "a")
    settings = flow_settings(lake, sources=[str(tmp_path / "logs")])
    calls = []
    real = steps.ingest_batch

    def flaky(ctx, files, spooled=()):
        calls.append(len(calls))
        if len(calls) == 1:
            raise OSError(5, "Input/output error")
        return real(ctx, files, spooled)

    monkeypatch.setattr(tasks, "RETRY_DELAYS", [0, 0])
    monkeypatch.setattr(steps, "ingest_batch", flaky)
    assert nightly_flow(settings=settings, return_state=True).is_completed()
    assert calls == [0, 1] and sessions_in(lake) == {"a"}

    def buggy(ctx, files, spooled=()):
        calls.append(len(calls))
        raise KeyError("a bug, not the disk")

    calls.clear()
    session_file(tmp_path / "logs" / "b.jsonl", "b")
    monkeypatch.setattr(steps, "ingest_batch", buggy)
    assert nightly_flow(settings=settings, return_state=True).is_failed()
    assert calls == [0]


@pytest.mark.timeout(900)  # a cluster of two worker processes starts in 5-30 s on shared cores
def test_nightly_on_a_local_two_worker_dask_cluster_matches_the_single_process_run(tmp_path: Path) -> None:
    inventory = str(SAMPLE / "agents.yaml")
    paths = [SAMPLE / "native" / "cicd-assistant", SAMPLE / "otlp"]  # both formats, incidents included
    single, on_dask = tmp_path / "single", tmp_path / "dask"
    run_pipeline(build_context(flow_settings(single, inventory=inventory), paths), DirectRunner())
    settings = flow_settings(on_dask, inventory=inventory, task_runner="dask", dask_workers=2)
    state = nightly_flow(settings=settings, paths=[str(p) for p in paths], return_state=True)
    assert state.is_completed()
    _, task_runs = flow_run_of(state)
    decoded = [name for name in task_runs if name.startswith("decode ")]
    assert len(decoded) == 28 and all(task_runs[name].state.is_completed() for name in decoded)
    assert "decode mail-assistant/2026-11-09.jsonl.gz" in decoded
    assert "ingest 1/1: 28 files (2026-11-09.jsonl.gz and 27 more)" in task_runs
    assert task_runs["metrics round 1/1"].state.is_completed()  # the sample is one round of agents
    assert rows(on_dask, "select count(*) from findings") != [(0,)]
    for query in ("select * from events order by all",
                  "select * exclude (quarantined_at) from quarantine order by all",
                  "select * from steps order by all",
                  "select * from sessions order by all",
                  "select * from findings order by all"):
        assert rows(single, query) == rows(on_dask, query), query


def rows(lake: Path, query: str) -> list[tuple]:
    return Lake(lake).connect().execute(query).fetchall()
