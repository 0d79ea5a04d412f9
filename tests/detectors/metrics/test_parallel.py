"""Metrics split for a cluster: rounds of whole agents built apart (on the workers of a local Dask
cluster, or one after another here) and committed by one writer give, row for row, the `steps` and
`sessions` a single-process `run_metrics` gives, for a full build and for incremental ones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

from agentwatch.detectors.metrics.parallel import (
    MetricsPlan,
    RoundPart,
    build_round_part,
    commit_rounds,
    plan_metrics,
    rounds_scratch,
)
from agentwatch.detectors.metrics.run import MetricsRun, run_metrics
from agentwatch.errors import LakeError
from agentwatch.flows.runners import local_cluster_options
from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.inventory import Agent, load_inventory
from agentwatch.lake import Lake
from agentwatch.sample.generate import write_sample
from tests.support.native_lines import line, write_lines

NOW = datetime(2026, 11, 25, tzinfo=UTC)
CHUNK_EVENTS = 300  # about one agent a round: the sample fleet becomes several rounds
Mapper = Callable[[list[tuple]], list[RoundPart]]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fleet")
    write_sample(out, days=6, seed=11, scale=0.3, progress=None)
    return out


def files_by_day(fleet: Path) -> list[list[Path]]:
    days = sorted({p.name.split(".")[0] for p in (fleet / "native").rglob("*.jsonl*")})
    return [sorted((fleet / "native").rglob(f"{day}.jsonl*")) for day in days]


def table(lake: Path, name: str) -> list[tuple]:
    return Lake(lake).connect().execute(f"select * from {name} order by all").fetchall()


def sub_agent_file(folder: Path, lake: Path, number: int) -> Path:
    """A session of another agent (last in agent order: the last round) spawned by the first agent's
    first session on the first day (the first round): the spawn tree crosses rounds."""
    first = "select session_id from events where agent_id <> 'zz-helper' order by ts, event_id limit 1"
    [(parent,)] = Lake(lake).connect().execute(first).fetchall()
    common = {"agent_id": "zz-helper", "session_id": f"x-child-{number}", "parent_session_id": parent}
    return write_lines(folder / f"child-{number}.jsonl", [line(seq=i, **common) for i in range(1, 4)])


def mapped_metrics(lake: Path, inventory: dict[str, Agent], map_rounds: Mapper, run: str) -> tuple[MetricsPlan,
                                                                                                    MetricsRun]:
    """What the nightly flow does under Dask: plan here, rounds through `map_rounds`, commit here."""
    scratch = rounds_scratch(lake, run)
    scratch.mkdir(parents=True)
    plan = plan_metrics(lake, inventory, scratch, chunk_events=CHUNK_EVENTS)
    parts = map_rounds([(lake, inventory, scratch, n, agents) for n, agents in enumerate(plan.rounds)])
    return plan, commit_rounds(lake, inventory, plan, tuple(parts))


def in_turn(arg_list: list[tuple]) -> list[RoundPart]:
    return [build_round_part(*args) for args in arg_list]


def test_rounds_on_a_two_worker_cluster_give_the_single_process_tables(fleet: Path, tmp_path: Path) -> None:
    inventory = load_inventory(fleet / "agents.yaml")
    days = files_by_day(fleet)
    single, mapped = tmp_path / "single", tmp_path / "mapped"
    with LocalCluster(**local_cluster_options(2)) as cluster, Client(cluster) as client:
        def on_workers(arg_list: list[tuple]) -> list[RoundPart]:
            return client.gather(client.map(build_round_part, *zip(*arg_list, strict=True), pure=False))

        for number, chunk in enumerate((days[:4], days[4:5], days[5:])):
            for lake in (single, mapped):
                ingest_paths(lake, [p for day in chunk for p in day], now=NOW)
            child = sub_agent_file(tmp_path, single, number)
            for lake in (single, mapped):
                ingest_paths(lake, [child], now=NOW)
            expected = run_metrics(single, inventory)
            plan, run = mapped_metrics(mapped, inventory, on_workers, f"run-{number}")
            assert (run.mode, run.sessions_rebuilt, run.count_steps, run.count_sessions) == \
                (expected.mode, expected.sessions_rebuilt, expected.count_steps, expected.count_sessions)
            assert len(plan.rounds) >= 3
            for name in ("steps", "sessions"):
                assert table(mapped, name) == table(single, name), (number, name)
            assert not plan.scratch.exists()
    assert [e["mode"] for e in Lake(mapped).entries() if e["kind"] == "metrics"] == \
        ["full", "incremental", "incremental"]
    # the sub-agents' sessions sit in the last round, their parent in the first: the tree crossed rounds
    children = Lake(mapped).connect().execute("""
        select count(*) filter (where spawn_depth > 0), count(distinct parent_session_id), any_value(parent.children)
        from sessions
        join (select session_id as parent_session_id, count_child_sessions as children from sessions) as parent
            using (parent_session_id)
        where session_id like 'x-child-%'
    """).fetchall()
    assert children[0][:2] == (3, 1) and children[0][2] >= 3


def test_a_lake_that_moved_on_since_the_plan_is_built_in_one_process(fleet: Path, tmp_path: Path) -> None:
    inventory = load_inventory(fleet / "agents.yaml")
    days = files_by_day(fleet)
    single, mapped = tmp_path / "single", tmp_path / "mapped"
    for lake in (single, mapped):
        ingest_paths(lake, days[0], now=NOW)
    scratch = rounds_scratch(mapped, "run")
    scratch.mkdir(parents=True)
    plan = plan_metrics(mapped, inventory, scratch, chunk_events=CHUNK_EVENTS)
    parts = tuple(in_turn([(mapped, inventory, scratch, n, agents) for n, agents in enumerate(plan.rounds)]))
    for lake in (single, mapped):
        ingest_paths(lake, days[1], now=NOW)  # another writer commits between the plan and the commit
    run = commit_rounds(mapped, inventory, plan, parts)
    assert run.mode == run_metrics(single, inventory).mode == "full"
    assert table(mapped, "sessions") == table(single, "sessions")
    assert not scratch.exists()


def test_a_missing_round_fails_the_commit_and_commits_nothing(fleet: Path, tmp_path: Path) -> None:
    inventory = load_inventory(fleet / "agents.yaml")
    ingest_paths(tmp_path, files_by_day(fleet)[0], now=NOW)
    scratch = rounds_scratch(tmp_path, "run")
    scratch.mkdir(parents=True)
    plan = plan_metrics(tmp_path, inventory, scratch, chunk_events=CHUNK_EVENTS)
    parts = in_turn([(tmp_path, inventory, scratch, n, agents) for n, agents in enumerate(plan.rounds)])
    with pytest.raises(LakeError, match="do not match the plan"):
        commit_rounds(tmp_path, inventory, plan, tuple(parts[1:]))
    assert [e["kind"] for e in Lake(tmp_path).entries()] == ["ingest"]
