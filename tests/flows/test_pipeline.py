"""The pipeline's logic without Prefect: discover -> ingest batches -> stages, as `agentwatch run` calls it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from agentwatch.errors import ConfigError
from agentwatch.flows import steps
from agentwatch.flows.context import build_context
from agentwatch.flows.pipeline import DirectRunner, PipelineStage, StepFailed, run_pipeline
from agentwatch.flows.stages import StageSkipped
from agentwatch.ingest.receiver.spool import Spool
from agentwatch.lake import verify_lake
from tests.flows.flow_support import SAMPLE, corrupt_gz, flow_settings, lake_state, session_file, sessions_in
from tests.support.native_lines import line, write_lines

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def run(settings: dict, paths=(), **kwargs):
    return run_pipeline(build_context(settings, paths, now=NOW), DirectRunner(), **kwargs)


def ingest_totals(summary) -> dict[str, int]:
    batches = [s.summary for s in summary.steps if s.name == "ingest"]
    keys = ("files", "ingested", "already_in_lake", "failed", "events_written", "quarantined")
    return {k: sum(getattr(b, k) for b in batches) for k in keys}


def test_sample_night_then_the_same_night_again_changes_nothing(lake: Path) -> None:
    settings = flow_settings(lake, inventory=str(SAMPLE / "agents.yaml"))
    first = run(settings, [SAMPLE])
    assert [s.name for s in first.steps] == ["discover", "ingest", "metrics", "detect", "risk", "escalate"]
    assert ingest_totals(first) == {"files": 84, "ingested": 84, "already_in_lake": 0, "failed": 0,
                                    "events_written": 19_804, "quarantined": 0}
    by_name = {s.name: s.summary for s in first.steps}
    assert by_name["metrics"].count_sessions == 1_163
    assert by_name["detect"].count_sessions == 1_163 and by_name["detect"].count_flagged > 0
    assert by_name["risk"].agents == 6
    before = lake_state(lake)
    files_before = sorted(p.relative_to(lake) for p in lake.rglob("*.parquet"))
    second = run(settings, [SAMPLE])
    assert ingest_totals(second)["already_in_lake"] == 84
    again = {s.name: s.summary for s in second.steps}
    assert again["metrics"].mode == "up_to_date"
    assert isinstance(again["detect"], StageSkipped) and isinstance(again["risk"], StageSkipped)
    assert lake_state(lake) == before
    assert sorted(p.relative_to(lake) for p in lake.rglob("*.parquet")) == files_before
    assert verify_lake(lake).problems == ()


def test_a_bad_file_never_fails_the_night(lake: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    session_file(logs / "good.jsonl", "good")
    corrupt_gz(logs / "cut.jsonl.gz")
    write_lines(logs / "odd.jsonl", [line(seq=1, session_id="odd"), b"{not json", line(seq=2, session_id="odd")])
    summary = run(flow_settings(lake, sources=[str(logs)]))
    totals = ingest_totals(summary)
    assert (totals["files"], totals["ingested"], totals["failed"], totals["quarantined"]) == (3, 2, 1, 1)
    assert summary.failed is None
    [failure] = [f for s in summary.steps if s.name == "ingest" for f in s.summary.failures]
    assert failure.path.endswith("cut.jsonl.gz") and "corrupt" in failure.reason
    assert sessions_in(lake) == {"good", "odd"}


def test_a_file_gone_between_discovery_and_ingest_is_reported_not_fatal(lake: Path, tmp_path: Path) -> None:
    ctx = build_context(flow_settings(lake), now=NOW)
    good = session_file(tmp_path / "a.jsonl", "a")
    summary = steps.ingest_batch(ctx, (tmp_path / "rotated-away.jsonl", good))
    assert (summary.ingested, summary.failed, summary.events_written) == (1, 1, 3)
    assert summary.failures[0].path.endswith("rotated-away.jsonl")
    assert "no such file" in summary.failures[0].reason


def test_a_failed_step_fails_the_run_with_its_reason_after_what_did_happen(lake: Path, tmp_path: Path) -> None:
    session_file(tmp_path / "logs" / "a.jsonl", "a")

    def explode(ctx):
        raise RuntimeError("disk on fire")

    stages = (PipelineStage("metrics", steps.build_metrics), PipelineStage("detect", explode),
              PipelineStage("never", steps.build_metrics))
    with pytest.raises(StepFailed, match=r"nightly run failed at step 'detect .*': RuntimeError: disk on fire") as exc:
        run(flow_settings(lake, sources=[str(tmp_path / "logs")]), stages=stages)
    assert [s.name for s in exc.value.summary.steps] == ["discover", "ingest", "metrics", "detect"]
    assert sessions_in(lake) == {"a"}  # what committed before the failure stays committed


def test_sources_take_folders_files_and_globs(lake: Path, tmp_path: Path) -> None:
    session_file(tmp_path / "a" / "x.jsonl", "x")
    session_file(tmp_path / "b" / "deep" / "y.jsonl", "y")
    single = session_file(tmp_path / "c.jsonl", "c")
    session_file(tmp_path / "b" / "deep" / "skip.txt", "skip")
    sources = [str(tmp_path / "a"), str(tmp_path / "b" / "**" / "*.jsonl"), str(single)]
    run(flow_settings(lake, sources=sources))
    assert sessions_in(lake) == {"x", "y", "c"}


@pytest.mark.parametrize("value", [[1, 2], {"a": 1}, 7])
def test_sources_must_be_paths(lake: Path, value) -> None:
    with pytest.raises(ConfigError, match="`sources` must be a list"):
        build_context(flow_settings(lake, sources=value))


def test_a_missing_source_folder_is_named(lake: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"does not exist in sources: .*nowhere"):
        run(flow_settings(lake, sources=[str(tmp_path / "nowhere")]))


def test_sources_from_the_environment_are_pathsep_separated(lake: Path, tmp_path: Path, monkeypatch) -> None:
    from agentwatch.config import load_settings

    monkeypatch.setenv("AGENTWATCH_SOURCES", f"{tmp_path / 'a'}:{tmp_path / 'b'}")
    settings = load_settings(None, {"lake": str(lake)})
    assert build_context(settings).sources == (str(tmp_path / "a"), str(tmp_path / "b"))


def test_the_guard_takes_only_new_files_and_the_spool(lake: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    session_file(logs / "old.jsonl", "old")
    settings = flow_settings(lake, sources=[str(logs)])
    run(settings)
    session_file(logs / "new.jsonl", "new")
    session_file(logs / "old.jsonl", "old", steps=5)  # the agent appended to its log: size changed
    spooled = Spool(build_context(settings).spool).write([line(seq=1, session_id="from-spool")])
    guard = run(settings, flow="guard", guard=True)
    discovery = guard.steps[0].summary
    assert sorted(p.name for p in discovery.files) == sorted(["new.jsonl", "old.jsonl", spooled.name])
    assert ingest_totals(guard)["events_written"] == 3 + 2 + 1  # old.jsonl: only its two new events
    assert not spooled.exists()
    assert sessions_in(lake) == {"old", "new", "from-spool"}
    quiet = run(settings, flow="guard", guard=True)
    assert (len(quiet.steps[0].summary.files), quiet.steps[0].summary.known) == (0, 2)
    assert [s.name for s in quiet.steps] == ["discover"]
    assert "nothing new" in quiet.note


def test_the_guard_catches_up_on_events_ingested_outside_it(lake: Path, tmp_path: Path) -> None:
    from agentwatch.ingest.pipeline import ingest_paths

    settings = flow_settings(lake)
    ingest_paths(lake, [session_file(tmp_path / "cli.jsonl", "by-cli")])
    guard = run(settings, flow="guard", guard=True)
    assert [s.name for s in guard.steps] == ["discover", "metrics", "detect", "escalate"]
    assert sessions_in(lake) == {"by-cli"}


def test_batches_are_bounded(tmp_path: Path, monkeypatch) -> None:
    files = tuple(session_file(tmp_path / f"f{i}.jsonl", f"s{i}") for i in range(5))
    monkeypatch.setattr(steps, "BATCH_FILES", 2)
    assert [len(b) for b in steps.plan_batches(files)] == [2, 2, 1]
    monkeypatch.setattr(steps, "BATCH_BYTES", files[0].stat().st_size)
    assert [len(b) for b in steps.plan_batches(files)] == [1, 1, 1, 1, 1]
    assert steps.plan_batches(()) == []


def test_many_batches_make_one_night(lake: Path, tmp_path: Path, monkeypatch) -> None:
    for i in range(5):
        session_file(tmp_path / "logs" / f"f{i}.jsonl", f"s{i}")
    monkeypatch.setattr(steps, "BATCH_FILES", 2)
    summary = run(flow_settings(lake, sources=[str(tmp_path / "logs")]))
    labels = [s.label for s in summary.steps if s.name == "ingest"]
    assert labels == ["ingest 1/3: 2 files (f0.jsonl and 1 more)", "ingest 2/3: 2 files (f2.jsonl and 1 more)",
                      "ingest 3/3: f4.jsonl"]
    assert sessions_in(lake) == {f"s{i}" for i in range(5)}
