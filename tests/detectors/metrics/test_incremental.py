"""Rebuilding only the sessions new events affect gives exactly what a full rebuild gives."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from agentwatch.detectors.metrics.models import affected_sessions, build_metrics
from tests.detectors.metrics.approval_support import ALICE, ALICE_KEYS, MALLORY, signed
from tests.detectors.metrics.metrics_support import agent
from tests.support.builders import (
    START,
    events_table,
    reasoning,
    response,
    session,
    tool_call,
    tool_result,
    user,
)

AGENTS = {a.agent_id: a for a in (
    agent("a0", scope={"paths": ["/srv/a0/**"]}, approval_required=["deploy"], approval_keys=ALICE_KEYS),
    agent("a1", scope={"hosts": ["*.example.com"]}),
)}
WORDS = ("fix", "deploy", "report", "invoice", "timeout", "cache", "ledger", "refund")
TOOLS = ("read_file", "deploy", "send_email", "http_get", "bash")
BASELINE_DAYS = 2


def random_session(rng: random.Random, agent_id: str, session_id: str, day: int, parent: str | None) -> list[dict]:
    steps = [user(" ".join(rng.sample(WORDS, 3)))]
    for n in range(rng.randint(1, 6)):
        call = f"c{n}"
        tool = rng.choice(TOOLS)
        target = rng.choice(["/srv/a0/x", "/etc/passwd", "https://api.example.com/v", "ops@corp.example"])
        steps += [reasoning(rng.choice(WORDS)), tool_call(call, tool, {"arg": target}, input_tokens=rng.randint(1, 9))]
        if tool == "deploy" and rng.random() < 0.5:  # signed before the result, forged, or signed after it
            steps.append(signed(call, tool, {"arg": target}, key=rng.choice([ALICE, ALICE, MALLORY])))
        steps.append(tool_result(call, f"{rng.choice(WORDS)} see {rng.choice(['ops@corp.example', '/tmp/z'])}"))
        if tool == "deploy" and rng.random() < 0.2:
            steps.append(signed(call, tool, {"arg": target}))
        if rng.random() < 0.2:
            steps.append(user(rng.choice(WORDS)))
    steps.append(response(" ".join(rng.sample(WORDS, 2))))
    start = START + timedelta(days=day, minutes=rng.randint(0, 600))
    return session(agent_id, *steps, session_id=session_id, parent_session_id=parent, start=start, step_seconds=5)


def fleet(seed: int = 7) -> tuple[list[dict], list[dict]]:
    """Events of 40 sessions over 6 days, split into what arrived first and what arrived later."""
    rng = random.Random(seed)
    sessions = []
    for i in range(40):
        parent = f"s{i - 1}" if i % 9 == 4 else None
        sessions.append(random_session(rng, f"a{i % 2}", f"s{i}", day=i * 6 // 40, parent=parent))
    first, later = [], []
    for i, rows in enumerate(sessions):
        if i >= 34:  # the last day's sessions arrive later
            later += rows
        elif i % 7 == 3:  # some sessions get their tail later
            first += rows[: len(rows) // 2]
            later += rows[len(rows) // 2:]
        else:
            first += rows
    late_start = dict(later[0], event_id="early-event", seq=0, ts=START - timedelta(days=1))  # moves s3's day
    return first, [*later, late_start]


def connect(rows: list[dict], new_rows: list[dict] | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.register("events_arrow", events_table(rows))
    con.execute("create view events as select * from events_arrow")
    if new_rows is not None:
        con.register("new_arrow", events_table(new_rows))
        con.execute("create view new_events as select * from new_arrow")
    return con


def build(con: duckdb.DuckDBPyConnection, **options: Any) -> tuple[pa.Table, pa.Table]:
    build_metrics(con, AGENTS, baseline_days=BASELINE_DAYS, **options)
    return con.table("metrics_steps").to_arrow_table(), con.table("metrics_sessions").to_arrow_table()


def normalized(table: pa.Table) -> list[dict]:
    """Rows in key order; floats compared exactly (the models sum in fixed point, in any order)."""
    keys = ["agent_id", "session_id"] + (["step_index"] if "step_index" in table.column_names else [])
    return table.sort_by([(k, "ascending") for k in keys]).to_pylist()


def replaced(stored: pa.Table, affected: pa.Table, rebuilt: pa.Table) -> pa.Table:
    """Stored rows of the unaffected sessions plus the rebuilt ones (what detectors/metrics/run.py stores)."""
    def keys(table: pa.Table) -> pa.Array:
        return pc.binary_join_element_wise(table["agent_id"], table["session_id"], "\x1f")

    kept = stored.filter(pc.invert(pc.is_in(keys(stored), keys(affected))))
    return pa.concat_tables([kept, rebuilt.cast(stored.schema)])


def test_incremental_build_equals_full_rebuild():
    first, later = fleet()
    full_steps, full_sessions = build(connect(first + later))
    stored_steps, stored_sessions = build(connect(first))

    con = connect(first + later, later)
    affected = affected_sessions(con, "new_events", baseline_days=BASELINE_DAYS)
    new_steps, new_sessions = build(con, sessions_filter=affected, publish=False)

    assert normalized(replaced(stored_sessions, affected, new_sessions)) == normalized(full_sessions)
    assert normalized(replaced(stored_steps, affected, new_steps)) == normalized(full_steps)
    assert 0 < new_sessions.num_rows < full_sessions.num_rows
    outcomes = set(full_steps.column("approval_outcome").to_pylist())
    assert {"approved", "invalid_signature", "after_the_fact", "missing"} <= outcomes


def test_affected_sessions_cover_touched_baseline_followers_and_spawn_relatives():
    first, later = fleet()
    con = connect(first + later, later)
    affected = {(r["agent_id"], r["session_id"])
                for r in affected_sessions(con, baseline_days=BASELINE_DAYS).to_pylist()}
    touched = {(r["agent_id"], r["session_id"]) for r in later}
    assert touched <= affected
    assert ("a1", "s5") in affected  # same agent as s3, whose new start day (-1) is in s5's window
    assert ("a0", "s4") in affected  # child of touched s3


def test_a_filter_rebuilds_only_the_sessions_named():
    first, later = fleet()
    con = connect(first + later)
    _, sessions = build(con, sessions_filter=[("a1", "s3"), ("a0", "s0")])
    assert sorted(sessions.column("session_id").to_pylist()) == ["s0", "s3"]
