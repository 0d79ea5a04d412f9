"""Benchmark: the risk model run (six dimensions per agent-day, findings, alerts) over a scaled sample fleet.

    .venv/bin/python bench/bench_risk.py [--scale 50] [--dir /tmp/aw-bench-risk]

Generates the sample fleet at `--scale` times its sessions per day (deterministic), ingests it and
builds the session metrics (not timed), then times `run_risk` and samples its peak RSS (psutil, every
20 ms) against a floor: one DuckDB pass over `sessions` grouped by agent and day. Prints events,
sessions, agent-days, seconds and peak memory.
"""

from __future__ import annotations

import argparse
import shutil
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

from agentwatch.detectors.metrics.run import run_metrics
from agentwatch.detectors.risk.run import run_risk
from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.inventory import load_inventory
from agentwatch.lake import Lake
from agentwatch.sample.generate import write_sample

NOW = datetime(2026, 11, 24, tzinfo=UTC)
FLOOR = ("select agent_id, session_day, count(*), avg(goal_drift_level), sum(count_tool_calls) "
         "from sessions group by all")


def peak_rss(work):
    """Run `work()`; return its result, wall seconds and the process's peak RSS in MB meanwhile."""
    process, peak, done = psutil.Process(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.02)

    thread = threading.Thread(target=sample)
    thread.start()
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    done.set()
    thread.join()
    return result, seconds, peak[0] / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=50.0)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/aw-bench-risk"))
    args = parser.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    sample, root = args.dir / "sample", args.dir / "lake"
    summary = write_sample(sample, scale=args.scale, progress=None)
    inventory = load_inventory(sample / "agents.yaml")
    ingest_paths(root, [sample], now=NOW, memory_limit="2GB")
    run_metrics(root, inventory, memory_limit="2GB")
    lake = Lake(root)
    sessions = lake.connect().execute("select count(*) from sessions").fetchall()[0][0]
    _, floor_s, _ = peak_rss(lambda: lake.connect().execute(FLOOR).fetchall())
    run, risk_s, risk_mb = peak_rss(lambda: run_risk(lake, inventory=inventory, now=NOW))
    print(f"events {summary['events']:,}  sessions {sessions:,}  agent-days {run.agent_days:,}  "
          f"findings {run.findings}  alerts {run.alerts}")
    print(f"floor (sessions group by agent, day): {floor_s:.2f} s")
    print(f"run_risk: {risk_s:.2f} s, peak RSS {risk_mb:,.0f} MB")


if __name__ == "__main__":
    main()
