"""Generate the sample fleet: inventory, native event files per agent per day, and labels.

Streaming: day by day, agent by agent, session by session; only one session tree is in memory.
Deterministic: every agent-day draws from its own `random.Random(f"{seed}:{agent}:{day}")`.
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any, TextIO

from agentwatch.errors import ConfigError
from agentwatch.sample.entities import vendors
from agentwatch.sample.fleet import AgentSpec, all_key_ids, build_fleet, write_inventory
from agentwatch.sample.model import Context, Session, SessionBuilder, new_uuid
from agentwatch.sample.otlp import encode_otlp
from agentwatch.sample.readme import write_readme
from agentwatch.sample.scenarios import AGENT_MODULES, HARD_NEGATIVES, label_of, plan_scenarios
from agentwatch.sample.signing import Keyring
from agentwatch.sample.writer import MS_PER_DAY, LabelWriter, SessionWriter, encode_native

EPOCH = date(1970, 1, 1)
# The committed sample writes this agent as OTLP/JSON traces, the rest as native JSON Lines, so the
# demo exercises two decoders. `write_sample` itself defaults to native only (benchmarks, tests).
DEFAULT_OTLP_AGENT = "mail-assistant"


class _World:
    """What every agent-day shares: seed, keys, vendors, the scenario plan, the scale."""

    def __init__(self, seed: int, days: int, scale: float):
        self.seed = seed
        self.scale = scale
        self.fleet = build_fleet(seed)
        self.keyring = Keyring(seed, all_key_ids(self.fleet))
        self.vendors = vendors(seed)
        self.plan = plan_scenarios(seed, days, scale)


def write_sample(
    out_dir: str | Path,
    days: int = 14,
    seed: int = 7,
    scale: float = 1.0,
    start: str = "2026-11-09",
    gzip: bool = True,
    *,
    otlp_agent: str | None = None,
    progress: TextIO | None = sys.stderr,
) -> dict[str, Any]:
    """Write agents.yaml, labels.csv, README.md and native/<agent>/<date>.jsonl[.gz] under `out_dir`.

    Returns a summary: events, sessions (sub-agents included), files, instances per incident scenario
    and per hard negative (a spawn tree counts once), seconds, events_per_s. Progress and rate go to
    `progress`. `otlp_agent` names one agent whose telemetry is written as OTLP/JSON traces (GenAI
    semantic conventions) under otlp/<agent>/ instead of native JSON Lines.
    """
    first = _check_args(days, scale, start, otlp_agent, seed)
    began = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    world = _World(seed, days, scale)
    write_inventory(out / "agents.yaml", world.fleet, world.keyring)
    writer, labels = SessionWriter(out, gzip), LabelWriter(out / "labels.csv")
    try:
        played = _write_days(world, first, days, otlp_agent, writer, labels, progress, began)
    finally:
        writer.close()
        labels.close()
    seconds = time.perf_counter() - began
    _report(progress, f"wrote {labels.sessions:,} sessions to {out}", writer.events, began)
    summary = {"events": writer.events, "sessions": labels.sessions, "files": len(writer.files),
               "incidents": {name: n for name, n in sorted(played.items()) if label_of(name)},
               "hard_negatives": {name: n for name, n in sorted(played.items()) if name in HARD_NEGATIVES}}
    params = {"seed": seed, "days": days, "start": start, "scale": scale, "otlp_agent": otlp_agent}
    write_readme(out / "README.md", params, summary)
    return {**summary, "seconds": round(seconds, 3), "events_per_s": round(writer.events / max(seconds, 1e-9))}


def _write_days(world: _World, first: date, days: int, otlp_agent: str | None, writer: SessionWriter,
                labels: LabelWriter, progress: TextIO | None, began: float) -> Counter:
    """Generate and write day by day, agent by agent; count the sessions each scenario got."""
    played: Counter = Counter()
    for day in range(days):
        today = first + timedelta(days=day)
        for spec in world.fleet:
            fmt, encode = ("otlp", encode_otlp) if spec.agent_id == otlp_agent else ("native", encode_native)
            writer.open(fmt, spec.agent_id, today.isoformat(), encode)
            for session in agent_day(world, spec, day, today):
                writer.write(session)
                labels.write(session)
                played[session.scenario] += 1
        _report(progress, f"day {day + 1}/{days}", writer.events, began)
    return played


def agent_day(world: _World, spec: AgentSpec, day: int, today: date) -> Iterator[Session]:
    """One agent's sessions for one day, in start order; planned scenarios take random slots."""
    rng = random.Random(f"{world.seed}:{spec.agent_id}:{day}")
    rate = spec.weekday_rate if today.weekday() < 5 else spec.weekend_rate
    scripted = world.plan.get((spec.agent_id, day), [])
    count = max(len(scripted), int(rate * world.scale * rng.uniform(0.75, 1.25) + rng.random()))
    slots = dict(zip(rng.sample(range(count), len(scripted)), scripted, strict=True))
    module = AGENT_MODULES[spec.agent_id]
    jobs, weights = zip(*module.JOBS, strict=True)
    cum_weights = list(accumulate(weights))
    for index, start_ms in enumerate(_start_times(rng, spec, today, count)):
        session = Session(spec.agent_id, new_uuid(rng), f"{rng.getrandbits(128):032x}", f"{rng.getrandbits(64):016x}")
        ctx = Context(rng, spec, world.keyring, rng.choice(spec.humans), world.vendors)
        builder = SessionBuilder(ctx, session, start_ms)
        if index in slots:
            session.scenario, session.label = slots[index], label_of(slots[index])
            module.SCENARIOS[session.scenario](builder)
        else:
            rng.choices(jobs, cum_weights=cum_weights)[0](builder)
        yield session


def _start_times(rng: random.Random, spec: AgentSpec, today: date, count: int) -> list[int]:
    """Session start times (epoch ms) following the agent's hourly rhythm."""
    midnight = (today - EPOCH).days * MS_PER_DAY
    cum = list(accumulate(spec.hours))
    hours = rng.choices(range(24), cum_weights=cum, k=count)
    return sorted(midnight + hour * 3_600_000 + rng.randrange(3_600_000) for hour in hours)


def _check_args(days: int, scale: float, start: str, otlp_agent: str | None, seed: int) -> date:
    """Refuse settings the generator cannot honour; return the first day."""
    if days < 1 or scale <= 0:
        raise ConfigError(f"need days >= 1 and scale > 0, got days={days}, scale={scale}", "write_sample")
    known = sorted(spec.agent_id for spec in build_fleet(seed))
    if otlp_agent is not None and otlp_agent not in known:
        raise ConfigError(f"unknown agent {otlp_agent!r}; known: {', '.join(known)}", "otlp_agent")
    try:
        return date.fromisoformat(start)
    except ValueError as exc:
        raise ConfigError(f"start must be a date like 2026-11-09, got {start!r}", "write_sample") from exc


def _report(progress: TextIO | None, what: str, events: int, began: float) -> None:
    if progress is None:
        return
    seconds = time.perf_counter() - began
    progress.write(f"{what}: {events:,} events in {seconds:.1f}s ({events / max(seconds, 1e-9):,.0f} events/s)\n")
