"""Metrics split for a cluster: workers build rounds of whole agents in parallel, one writer commits.

`plan_metrics` (the flow's process, no lock) decides what the run rebuilds exactly as `run_metrics`
does: the mode from the manifest, the sessions new events can change (incremental), `int_sessions`
and the rounds (ranges of whole agents, `plan_rounds`). It writes `int_sessions` and `affected` to
a scratch folder under `<lake>/_rounds/`, which no reader looks at and the writer lock does not
clear. `build_round_part` runs anywhere that sees the lake and that folder (a Dask worker): a read
connection of its own, the plan's `int_sessions`, one round's models, the round's rows as Parquet
parts. `commit_rounds` takes the writer lock and commits the parts through `commit_metrics`, the
same entry a single-process run writes; if another writer committed since the plan, it builds in
one process instead.

What a round reads beyond its own agents, and how it gets it:
- `int_sessions` covers the whole fleet (the spawn tree matches sessions across agents, and the dense
  keys and rounds are numbered over all of it): built once by the plan, read by every round;
- baselines and peer groups are the same agent's sessions: a round holds whole agents;
- approval outcomes and the inventory's tables are per session and per agent: each round makes its own.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from agentwatch.detectors.metrics.models import (
    CHUNK_EVENTS,
    OUTPUT_TABLES,
    AgentRange,
    build_round,
    model_params,
    part_path,
    plan_build,
    prepare_build,
    select_round,
)
from agentwatch.detectors.metrics.run import (
    MetricsRun,
    MetricsState,
    commit_metrics,
    create_empty_outputs,
    metrics_state,
    new_event_files,
    register_affected,
    run_metrics,
)
from agentwatch.detectors.metrics.verification import register_approval_outcomes
from agentwatch.errors import LakeError
from agentwatch.inventory import Agent
from agentwatch.lake import ROUNDS_DIR, Lake, agents_not_in, local_folder, read_parquet

PARTS = "parts"


@dataclass(frozen=True)
class MetricsPlan:
    """What a mapped metrics run rebuilds, where its rounds' parts go, and the manifest it read."""

    state: MetricsState
    entries_seen: int  # manifest entries the plan read: the commit checks that no writer committed since
    scratch: Path
    rounds: tuple[AgentRange, ...]
    baseline_days: int
    unknown_agents: tuple[str, ...] = ()

    @property
    def mode(self) -> str:
        """full | incremental | up_to_date."""
        return self.state.mode


@dataclass(frozen=True)
class RoundPart:
    """One round a worker built: its index (the part's number) and its rows."""

    index: int
    count_steps: int
    count_sessions: int
    seconds: Mapping[str, float] = field(default_factory=dict)


def rounds_scratch(lake: str | Path, run_key: str) -> Path:
    """The folder one run's plan and round parts go to."""
    return local_folder(lake) / ROUNDS_DIR / run_key


def plan_metrics(
    lake: str | Path, inventory: Mapping[str, Agent], scratch: Path, *, baseline_days: int = 7,
    memory_limit: str = "1GB", chunk_events: int = CHUNK_EVENTS,
) -> MetricsPlan:
    """Decide the run and write what every round reads (`int_sessions`, `affected`) to `scratch`."""
    lake = Lake(lake).require()
    entries = lake.entries()
    state = metrics_state(entries, inventory, baseline_days)
    con = lake.connect(hardened=False, memory_limit=memory_limit, spill_dir=scratch / "spill")
    try:
        unknown = agents_not_in(con, inventory) if inventory else ()
        rounds = _plan_rounds(con, lake, inventory, state, scratch, baseline_days, chunk_events)
    finally:
        con.close()
    return MetricsPlan(state, len(entries), scratch, tuple(rounds), baseline_days, unknown)


def build_round_part(
    lake: str | Path, inventory: Mapping[str, Agent], scratch: Path, index: int, agents: AgentRange,
    baseline_days: int = 7, memory_limit: str = "1GB",
) -> RoundPart:
    """Build round `index` of the plan in `scratch` on a connection of its own; its rows become part `index`."""
    params, seconds = model_params(baseline_days), {}
    con = Lake(lake).connect(hardened=False, memory_limit=memory_limit, spill_dir=scratch / f"spill-{index:05d}")
    try:
        con.execute(f"create table int_sessions as select * from {_scratch_file(scratch / 'int_sessions.parquet')}")
        select_round(con, params, agents)
        con.execute("create view round_targets as select agent_id, session_id from int_sessions where is_target")
        prepare_build(con, inventory, "round_targets")
        register_approval_outcomes(con, inventory)  # per session: the round's own targets are enough
        build_round(con, params, agents, index, scratch / PARTS, seconds)
        counts = [_count(con, table) for table in ("int_steps", "int_session_metrics")]
    finally:
        con.close()
    return RoundPart(index, counts[0], counts[1], seconds)


def commit_rounds(
    lake: str | Path, inventory: Mapping[str, Agent], plan: MetricsPlan, parts: tuple[RoundPart, ...], *,
    memory_limit: str = "1GB",
) -> MetricsRun:
    """Commit the rounds' parts as `run_metrics` would have; then drop the scratch folder."""
    lake = Lake(lake).require()
    try:
        with lake.writer() as writer:
            if len(writer.entries) == plan.entries_seen:
                if plan.mode == "up_to_date":
                    return MetricsRun("up_to_date", 0, 0, 0, None, plan.unknown_agents)
                con = writer.connection(memory_limit=memory_limit)
                rebuilt = _load_parts(con, plan, parts)
                return commit_metrics(con, writer, plan.state, rebuilt, plan.unknown_agents)
        # another writer committed since the plan (the run lock keeps other runs off, not the CLI)
        return run_metrics(lake, inventory, baseline_days=plan.baseline_days, memory_limit=memory_limit)
    finally:
        remove_rounds(plan.scratch)


def remove_rounds(scratch: Path) -> None:
    """Delete a run's plan and parts (or a crashed run's, given the parent folder)."""
    shutil.rmtree(scratch, ignore_errors=True)


def _plan_rounds(
    con: duckdb.DuckDBPyConnection, lake: Lake, inventory: Mapping[str, Agent], state: MetricsState, scratch: Path,
    baseline_days: int, chunk_events: int,
) -> list[AgentRange]:
    if state.mode == "up_to_date":
        return []
    incremental = state.mode == "incremental"
    has_events = not incremental or register_affected(con, new_event_files(lake, state.new), baseline_days)
    rounds = []
    if has_events:
        prepare_build(con, inventory, "affected" if incremental else None)
        rounds = plan_build(con, model_params(baseline_days), chunk_events, {})
        con.table("int_sessions").write_parquet(str(scratch / "int_sessions.parquet"), compression="zstd")
    if incremental:
        con.table("affected").write_parquet(str(scratch / "affected.parquet"), compression="zstd")
    return rounds


def _load_parts(con: duckdb.DuckDBPyConnection, plan: MetricsPlan, parts: tuple[RoundPart, ...]) -> int:
    """Views `metrics_steps` / `metrics_sessions` over the rounds' parts (and `affected`); sessions rebuilt."""
    if sorted(p.index for p in parts) != list(range(len(plan.rounds))):
        raise LakeError(f"metrics rounds {sorted(p.index for p in parts)} do not match the plan's "
                        f"{len(plan.rounds)} rounds", str(plan.scratch))
    if plan.rounds:
        for model, output in OUTPUT_TABLES.items():
            files = [str(part_path(plan.scratch / PARTS, model, p.index)) for p in sorted(parts, key=_index)]
            con.execute(f"create view {output} as select * from {read_parquet(files, hive=False)}")
    else:
        create_empty_outputs(con)
    if plan.mode == "full":
        return sum(p.count_sessions for p in parts)
    con.execute(f"create table affected as select * from {_scratch_file(plan.scratch / 'affected.parquet')}")
    return _count(con, "affected")


def _scratch_file(path: Path) -> str:
    return read_parquet([str(path)], hive=False)  # the lake's own folder may hold `name=value` parts


def _index(part: RoundPart) -> int:
    return part.index


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"select count(*) from {table}").fetchall()[0][0]
