"""Session metrics: run the SQL models in `detectors/metrics/sql/` over a connection's `events`.

The models sit in folders by layer, as in a dbt project (each `.sql` states its grain and documents
its formulas; names say the layer):
  staging/       stg_events: canonical events renamed and cast, and the few `attrs` fields the
                 models need parsed; nothing else reads `events` or `attrs`
  intermediate/  int_*: one concept each, built from staging and from one another
  marts/         steps, sessions: the published rows (views `steps`, `sessions`)
  build/         helpers of the build itself, not models: macros, chunk planning, affected_sessions
Constants Python also knows (tool category precedence, hostile-text flag names, approval outcomes,
entity and tool patterns) are bound as parameters (`model_params`), never copied into the SQL.

Order of a build:
  stg_events (view)    staging
  approval_outcomes    (Python, verification.py over int_approvals) each approved call's verified outcome
  int_sessions         every session: span, session_day, baseline size, target / context marks
  then, one round per chunk of agents (chunk_sessions marks the round's sessions; an agent's
  history is never split, so rounds give the same rows as one big build, in bounded memory):
  int_events           events of context sessions: order indices, words, entities, tool category
  int_step_drift       goal relevance and drift per agent step
  int_entity_flow      sink calls carrying entities first seen in a tool result
  int_calls            oversight, telemetry and repetition per tool call
  int_session_scope    scope expansion per session (late-new, baseline-new, out of scope)
  int_peer_novelty     tools and resources the same agent's same-goal sessions rarely use
  int_spawn_tree       place in the delegation tree per session
  steps, sessions      the round's rows, appended to the outputs:
  metrics_steps        one row per event of a target session   -> view `steps`
  metrics_sessions     one row per target session, every metric -> view `sessions`
The rounds can also be built apart, each on a connection of its own that reads the plan's
int_sessions (detectors/metrics/parallel.py: the rounds of a run on Dask workers).

Incremental use. A session's metrics depend on its own events, on its agent's sessions of the
`baseline_days` days before its own day, and on its spawn tree; nothing else. So after new events
arrive (and are visible in `events`), the caller registers the new events as `new_events`, calls
`affected_sessions(con)` and rebuilds only those sessions with
`build_metrics(con, inventory, sessions_filter=<that table>, publish=False)` (their baseline context
is read from `events`, nothing else is tokenized), then stores `metrics_steps` / `metrics_sessions`
in place of those sessions' rows (detectors/metrics/run.py). The result equals a full rebuild over all
events (tests/detectors/metrics/test_incremental.py checks it).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from agentwatch.detectors.metrics.entities import SCOPE_KIND_OF_ENTITY, entity_params
from agentwatch.detectors.metrics.inventory_tables import register_inventory_tables
from agentwatch.detectors.metrics.tool_categories import category_params
from agentwatch.detectors.metrics.verification import OUTCOMES, register_approval_outcomes
from agentwatch.ingest.sanitize.hostile import FLAG_NAMES
from agentwatch.inventory import Agent

SQL_DIR = Path(__file__).parent / "sql"
# a model's layer folder, from its name's prefix (anything else is a mart)
LAYERS = {"stg_": "staging", "int_": "intermediate"}
# Built once per round (a chunk of agents); `steps` and `sessions` build this round's rows.
ROUND_MODELS = (
    "int_events",
    "int_step_drift",
    "int_entity_flow",
    "int_calls",
    "int_session_scope",
    "int_peer_novelty",
    "int_spawn_tree",
    "steps",
    "sessions",
)
ROUND_TABLES = {"steps": "int_steps", "sessions": "int_session_metrics"}
OUTPUT_TABLES = {"steps": "metrics_steps", "sessions": "metrics_sessions"}
# A round reads about this many events (an agent is never split): its working set is about 2 GB.
CHUNK_EVENTS = 1_000_000
# Deeper spawn chains (or cycles in hostile data) stop being walked here.
MAX_SPAWN_DEPTH = 32
# Peer-group novelty: an item fewer than this share of same-goal peers used, among at least this many.
PEER_RARE_SHARE = 0.1
PEER_MIN_SESSIONS = 5
_PARAMETER = re.compile(r"\$([a-z_]+)")
SessionsFilter = str | pa.Table | Iterable[tuple[str, str]] | None


@dataclass(frozen=True)
class MetricsResult:
    """What a build made: row counts of its two outputs, rounds run and seconds spent per model."""

    count_steps: int
    count_sessions: int
    count_rounds: int
    seconds: Mapping[str, float] = field(default_factory=dict)


def build_metrics(
    con: duckdb.DuckDBPyConnection,
    inventory: Mapping[str, Agent],
    *,
    baseline_days: int = 7,
    sessions_filter: SessionsFilter = None,
    chunk_events: int = CHUNK_EVENTS,
    out_dir: Path | None = None,
    publish: bool = True,
    keep_intermediate: bool = False,
) -> MetricsResult:
    """Build `metrics_steps` and `metrics_sessions` (and views `steps`, `sessions` when publishing).

    With out_dir, each round's rows go to `out_dir/{steps,sessions}/part-NNNNN.parquet` as soon as
    they are built and the outputs are views over those files: memory holds one round, not the whole
    result. keep_intermediate keeps the int_* tables of the last round, for tests and debugging.
    """
    params = model_params(baseline_days)
    seconds: dict[str, float] = {}
    prepare_build(con, inventory, sessions_filter)
    register_approval_outcomes(con, inventory)  # signatures checked in Python, before int_calls joins them
    rounds = plan_build(con, params, chunk_events, seconds)
    for index, agents in enumerate(rounds):
        select_round(con, params, agents)
        build_round(con, params, agents, index, out_dir, seconds)
    if out_dir is not None:
        for model, output in OUTPUT_TABLES.items():
            con.execute(f"drop table if exists {output}")
            con.read_parquet(str(out_dir / model / "part-*.parquet")).create_view(output, replace=True)
    if not keep_intermediate:
        _drop_round_tables(con)
        con.execute("drop table if exists int_sessions")
    if publish:
        for view, table in OUTPUT_TABLES.items():
            con.execute(f"create or replace view {view} as select * from {table}")
    return MetricsResult(
        count_steps=_count(con, OUTPUT_TABLES["steps"]),
        count_sessions=_count(con, OUTPUT_TABLES["sessions"]),
        count_rounds=len(rounds),
        seconds=seconds,
    )


@dataclass(frozen=True)
class AgentRange:
    """The agents of one round: a range of agent_key, and the same range of agent_id."""

    first_key: int
    last_key: int
    first_id: str
    last_id: str

    def params(self) -> dict[str, object]:
        """Bound parameters naming the range."""
        return {"first_agent_key": self.first_key, "last_agent_key": self.last_key,
                "first_agent_id": self.first_id, "last_agent_id": self.last_id}


def plan_rounds(con: duckdb.DuckDBPyConnection, chunk_events: int) -> list[AgentRange]:
    """Ranges of agents to build together, each reading about chunk_events events (at least one agent)."""
    rounds: list[AgentRange] = []
    first = last = None
    total = 0
    for agent in con.execute(read_build("chunk_plan")).fetchall():
        if first is not None and total + agent[2] > chunk_events:
            rounds.append(AgentRange(first[0], last[0], first[1], last[1]))
            first, total = None, 0
        first = agent if first is None else first
        last, total = agent, total + agent[2]
    if first is not None:
        rounds.append(AgentRange(first[0], last[0], first[1], last[1]))
    return rounds or [AgentRange(0, 0, "", "")]  # no agent: one empty round makes the empty outputs


def affected_sessions(
    con: duckdb.DuckDBPyConnection, new_events: str = "new_events", *, baseline_days: int = 7
) -> pa.Table:
    """(agent_id, session_id) of every session whose metrics can change when `new_events` arrive."""
    create_staging(con)
    sql = read_build("affected_sessions").replace("new_events", _identifier(new_events))
    params = {"baseline_days": baseline_days, "max_spawn_depth": MAX_SPAWN_DEPTH}
    return con.sql(sql, params=_used(params, sql)).to_arrow_table()


def model_params(baseline_days: int = 7) -> dict[str, object]:
    """Every value the models bind: the settings and the constants Python owns."""
    return {
        **entity_params(),
        **category_params(),
        **{f"flag_{name}": name for name in FLAG_NAMES},
        **{f"outcome_{name}": name for name in OUTCOMES},
        "baseline_days": baseline_days,
        "max_spawn_depth": MAX_SPAWN_DEPTH,
        "scoped_kinds": sorted(SCOPE_KIND_OF_ENTITY),
        "peer_rare_share": PEER_RARE_SHARE,
        "peer_min_sessions": PEER_MIN_SESSIONS,
    }


def create_staging(con: duckdb.DuckDBPyConnection) -> None:
    """The staging view `stg_events` over the connection's `events` (what every model reads)."""
    con.execute(f"create or replace view stg_events as {read_model('stg_events')}")


def read_model(name: str) -> str:
    """The SQL text of one model (stg_*, int_* or a mart), from its layer's folder."""
    layer = next((folder for prefix, folder in LAYERS.items() if name.startswith(prefix)), "marts")
    return (SQL_DIR / layer / f"{name}.sql").read_text(encoding="utf-8")


def read_build(name: str) -> str:
    """The SQL text of one build helper (macros, chunk planning, affected_sessions)."""
    return (SQL_DIR / "build" / f"{name}.sql").read_text(encoding="utf-8")


def prepare_build(con: duckdb.DuckDBPyConnection, inventory: Mapping[str, Agent], sessions_filter: SessionsFilter
                  ) -> None:
    """The inventory's tables, the macros, staging, and `metrics_targets` (the sessions to build)."""
    register_inventory_tables(con, inventory)
    con.execute(read_build("macros"))
    create_staging(con)
    _register_targets(con, sessions_filter)


def plan_build(
    con: duckdb.DuckDBPyConnection, params: Mapping[str, object], chunk_events: int, seconds: dict[str, float]
) -> list[AgentRange]:
    """`int_sessions` (every session of the fleet: the spawn tree reads across agents) and the rounds."""
    _run_model(con, "int_sessions", "int_sessions", params, seconds)
    return plan_rounds(con, chunk_events)


def select_round(con: duckdb.DuckDBPyConnection, params: Mapping[str, object], agents: AgentRange) -> None:
    """Mark the round's targets and context in `int_sessions` (the previous round's tables dropped)."""
    _drop_round_tables(con)  # before, not after replacing: two rounds never share the memory
    sql = read_build("chunk_sessions")
    con.execute(sql, _used({**params, **agents.params()}, sql))


def build_round(
    con: duckdb.DuckDBPyConnection, params: Mapping[str, object], agents: AgentRange, index: int,
    out_dir: Path | None, seconds: dict[str, float],
) -> None:
    """Run the round models over the selected round and append its rows (or write them as part `index`)."""
    for model in ROUND_MODELS:
        _run_model(con, model, ROUND_TABLES.get(model, model), {**params, **agents.params()}, seconds)
    _append_round(con, index, out_dir)


def _run_model(
    con: duckdb.DuckDBPyConnection, model: str, table: str, params: Mapping[str, object], seconds: dict[str, float]
) -> None:
    started = time.perf_counter()
    sql = read_model(model)
    con.execute(f"create or replace table {table} as {sql}", _used(params, sql))
    seconds[model] = seconds.get(model, 0.0) + time.perf_counter() - started


def _drop_round_tables(con: duckdb.DuckDBPyConnection) -> None:
    for model in ROUND_MODELS:
        con.execute(f"drop table if exists {ROUND_TABLES.get(model, model)}")


def _append_round(con: duckdb.DuckDBPyConnection, index: int, out_dir: Path | None) -> None:
    # the dense session_key only joins this build's tables: stored rows must not depend on it
    columns = {"steps": "* exclude (session_key)", "sessions": "*"}
    for model, output in OUTPUT_TABLES.items():
        rows = f"select {columns[model]} from {ROUND_TABLES[model]}"
        if out_dir is not None:
            (out_dir / model).mkdir(parents=True, exist_ok=True)
            con.sql(rows).write_parquet(str(part_path(out_dir, model, index)), compression="zstd")
        else:
            verb = f"create or replace table {output} as" if index == 0 else f"insert into {output}"
            con.execute(f"{verb} {rows}")


def part_path(out_dir: Path, model: str, index: int) -> Path:
    """Where a build with out_dir writes round `index`'s rows of `steps` or `sessions`."""
    return out_dir / model / f"part-{index:05d}.parquet"


def _register_targets(con: duckdb.DuckDBPyConnection, sessions_filter: SessionsFilter) -> None:
    if sessions_filter is None:
        source = "select distinct agent_id, session_id from stg_events"
    elif isinstance(sessions_filter, str):
        source = f"select distinct agent_id, session_id from {_identifier(sessions_filter)}"
    else:
        table = sessions_filter if isinstance(sessions_filter, pa.Table) else _pairs_table(sessions_filter)
        con.register("_metrics_filter", table.select(["agent_id", "session_id"]))
        source = "select distinct agent_id, session_id from _metrics_filter"
    con.execute(f"create or replace table metrics_targets as {source}")
    if not isinstance(sessions_filter, str | None):
        con.unregister("_metrics_filter")


def _pairs_table(pairs: Iterable[tuple[str, str]]) -> pa.Table:
    rows = list(pairs)
    return pa.table({
        "agent_id": pa.array([a for a, _ in rows], pa.string()),
        "session_id": pa.array([s for _, s in rows], pa.string()),
    })


def _used(params: Mapping[str, object], sql: str) -> dict[str, object]:
    # DuckDB refuses named parameters a statement does not use; comments may name them too.
    code = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return {name: params[name] for name in set(_PARAMETER.findall(code))}


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"select count(*) from {table}").fetchall()[0][0]
