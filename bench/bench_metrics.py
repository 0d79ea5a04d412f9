"""Benchmark: the full metric build against a bare DuckDB scan-and-group-by of the same Parquet.

    .venv/bin/python bench/bench_metrics.py --events 1000000 [--events 10000000] [--dir /tmp/aw-bench]

For each size it generates the events (bench/generate_events.sql, deterministic), then measures, each
in a fresh process so peak memory is its own (psutil, sampled every 20 ms):
  scan      per-session count / min / max / token sums / text lengths: reads the columns the build reads
  words     the scan plus splitting every text into words: the floor of any word-based metric
  build     build_metrics over a view on the Parquet, outputs kept as DuckDB tables
  files     the same build writing each round's rows to Parquet as it goes (out_dir)
with DuckDB's memory_limit at 3 GB (spilling to a temp folder), and prints seconds, peak RSS and each
phase's ratio to the scan (the target is 5x, linear in events).
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import threading
import time
from pathlib import Path

import duckdb
import psutil

from agentwatch.detectors.metrics.models import build_metrics

HERE = Path(__file__).parent
EVENTS_PER_SESSION = 20  # the generator's average
MEMORY_LIMIT = "3GB"
SCAN = """
    select agent_id, session_id, count(*), min(ts), max(ts), sum(input_tokens)::bigint,
        sum(output_tokens)::bigint, max(length(text)), max(length(tool_args)), max(length(attrs))
    from events group by agent_id, session_id
"""
WORDS = """
    select agent_id, session_id, count(*), min(ts), max(ts), sum(input_tokens)::bigint,
        sum(len(regexp_extract_all(lower(coalesce(text, tool_args)), '[\\p{L}\\p{N}]{2,}')))
    from events group by agent_id, session_id
"""


def generate(path: Path, events: int) -> None:
    """Write `events` generated events (about) to one Parquet file, unless it is there already."""
    if path.exists():
        return
    sessions = max(1, events // EVENTS_PER_SESSION)
    sql = (HERE / "generate_events.sql").read_text(encoding="utf-8")
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    params = {"n_sessions": sessions, "n_agents": 40, "n_days": 30}
    tmp = path.with_suffix(".tmp")
    con.sql(sql, params=params).write_parquet(str(tmp), compression="zstd")
    tmp.rename(path)


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")
    # bounded memory: DuckDB spills what does not fit (in-memory tables included) to the temp folder
    con.execute("set memory_limit = ?", [MEMORY_LIMIT])
    con.execute("set temp_directory = ?", [str(path.parent / "spill")])
    con.read_parquet(str(path)).create_view("events")
    return con


def run_scan(path: Path, sql: str) -> dict[str, float]:
    connect(path).sql(f"create table result as {sql}")
    return {}


def run_build(path: Path) -> dict[str, float]:
    return dict(build_metrics(connect(path), {}).seconds)


def run_build_files(path: Path) -> dict[str, float]:
    out = path.parent / f"{path.stem}-metrics"
    shutil.rmtree(out, ignore_errors=True)
    return dict(build_metrics(connect(path), {}, out_dir=out).seconds)


def measured(target, *args) -> tuple[float, float, dict[str, float]]:
    """(seconds, peak RSS in GB, seconds per model) of target(*args) run in a fresh process."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_measure_here, (target, *args))


def _measure_here(target, *args) -> tuple[float, float, dict[str, float]]:
    process, peak, done = psutil.Process(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    detail = target(*args)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return seconds, max(peak[0], process.memory_info().rss) / 1e9, detail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, action="append", help="events to generate (repeatable)")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/agentwatch-bench"))
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    print(f"{'events':>10} {'phase':>6} {'seconds':>8} {'peak GB':>8} {'x scan':>7} {'events/s':>10}")
    for events in args.events or [1_000_000]:
        path = args.dir / f"events-{events}.parquet"
        generate(path, events)
        rows = connect(path).sql("select count(*) from events").fetchall()[0][0]
        scan_seconds, scan_peak, _ = measured(run_scan, path, SCAN)
        words_seconds, words_peak, _ = measured(run_scan, path, WORDS)
        build_seconds, build_peak, models = measured(run_build, path)
        files_seconds, files_peak, _ = measured(run_build_files, path)
        for phase, seconds, peak in (("scan", scan_seconds, scan_peak), ("words", words_seconds, words_peak),
                                     ("build", build_seconds, build_peak), ("files", files_seconds, files_peak)):
            print(f"{rows:>10} {phase:>6} {seconds:>8.2f} {peak:>8.2f} {seconds / scan_seconds:>7.1f} "
                  f"{rows / seconds:>10,.0f}")
        print("           build by model: " + ", ".join(f"{k} {v:.2f}" for k, v in models.items()))


if __name__ == "__main__":
    main()
