"""Ingest, then metrics, on a local Dask cluster beside one process, over the same files.

Generates (seeded, `bench_ingest.generate`) N events split over F native JSONL files, then measures,
each in a fresh process tree (wall seconds and peak RSS summed over the tree, workers included):
  floor    polars `read_ndjson` + `write_parquet` (zstd) of every file, one after another
  serial   `ingest_paths` of all files as one batch (what `task_runner = "thread"` does)
  dask     a LocalCluster of W worker processes on 127.0.0.1 decoding and masking the files in
           parallel (`ingest.parallel.decode_file`), then the one writer's commit (`commit_decoded`)
and checks that both lakes hold the same events. The cluster's start-up is included in `dask`.

With `--stage metrics` it ingests the files once, then measures a full metrics build on copies of
that lake, back to back:
  serial   `run_metrics` in one process (what `task_runner = "thread"` does)
  dask     plan here, rounds of whole agents on W worker processes (`build_round_part`), one commit
           (`commit_rounds`); `--chunk-events` sets the round size (default: the build's own, 1M)
and checks that both lakes hold the same `steps` and `sessions`.

    python bench/bench_scale.py [--stage ingest|metrics] [--events 1000000] [--files 8] [--workers 2]
        [--chunk-events N] [--out bench/out]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))
from bench_ingest import generate  # noqa: E402

FLOOR = """
import polars as pl, sys
for i, path in enumerate(sys.argv[2:]):
    pl.read_ndjson(path).write_parquet(f"{sys.argv[1]}/floor-{i}.parquet", compression="zstd")
"""
SERIAL = """
import sys
from pathlib import Path
from agentwatch.ingest.pipeline import ingest_paths
report = ingest_paths(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]], memory_limit="1GB")
assert all(f.reconciles() for f in report.files)
"""
DASK = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from distributed import Client, LocalCluster
from agentwatch.flows.runners import local_cluster_options
from agentwatch.ingest.parallel import commit_decoded, decode_file, decode_scratch, remove_scratch
from agentwatch.ingest.sanitize.sanitizer import Sanitizer
if __name__ == "__main__":  # worker processes re-import this script: only the parent runs it
    lake, workers, files = Path(sys.argv[1]), int(sys.argv[2]), [Path(p) for p in sys.argv[3:]]
    now = datetime.now(UTC)
    Sanitizer.for_lake(lake)
    scratch = decode_scratch(lake, "bench")
    with LocalCluster(**local_cluster_options(workers)) as cluster, Client(cluster) as client:
        futures = [client.submit(decode_file, lake, p, scratch / f"{i:06d}", now, "1GB", pure=False)
                   for i, p in enumerate(files)]
        report = commit_decoded(lake, client.gather(futures), now, "1GB")
    remove_scratch(scratch)
    assert all(f.reconciles() for f in report.files)
"""

METRICS_SERIAL = """
import sys
from pathlib import Path
from agentwatch.detectors.metrics.run import run_metrics
assert run_metrics(Path(sys.argv[1]), {}, memory_limit="1GB").mode == "full"
"""
METRICS_DASK = """
import sys
import time
from pathlib import Path
from distributed import Client, LocalCluster
from agentwatch.detectors.metrics.parallel import build_round_part, commit_rounds, plan_metrics, rounds_scratch
from agentwatch.flows.runners import local_cluster_options
if __name__ == "__main__":  # worker processes re-import this script: only the parent runs it
    lake, workers, chunk = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    scratch = rounds_scratch(lake, "bench")
    scratch.mkdir(parents=True)
    clock = [time.perf_counter()]
    with LocalCluster(**local_cluster_options(workers)) as cluster, Client(cluster) as client:
        clock.append(time.perf_counter())
        plan = plan_metrics(lake, {}, scratch, memory_limit="1GB", chunk_events=chunk)
        clock.append(time.perf_counter())
        futures = [client.submit(build_round_part, lake, {}, scratch, n, agents, plan.baseline_days, "1GB", pure=False)
                   for n, agents in enumerate(plan.rounds)]
        parts = tuple(client.gather(futures))
        clock.append(time.perf_counter())
        run = commit_rounds(lake, {}, plan, parts, memory_limit="1GB")
        clock.append(time.perf_counter())
    assert run.mode == "full"
    spans = [f"{name} {b - a:.1f} s" for name, a, b in zip(("start", "plan", "rounds", "commit"), clock, clock[1:])]
    print(f"  dask: {len(plan.rounds)} rounds of whole agents; " + ", ".join(spans), flush=True)
"""


def measure(code: str, *args: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB, summed over the process tree) of `code` in a fresh interpreter."""
    script = Path(args[0]) / "bench_script.py"
    script.write_text(code)
    began, peak = time.perf_counter(), 0
    child = subprocess.Popen([sys.executable, str(script), *args])
    root = psutil.Process(child.pid)
    while child.poll() is None:
        peak = max(peak, _tree_rss(root))
        time.sleep(0.05)
    if child.returncode:
        raise SystemExit(f"benchmark step failed with exit code {child.returncode}")
    script.unlink()
    return time.perf_counter() - began, peak / 1e6


def _tree_rss(root: psutil.Process) -> int:
    total = 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total


def event_ids(lake: Path) -> tuple[int, int]:
    """How many events a lake holds, and a checksum of their ids."""
    import duckdb

    from agentwatch.lake import Lake

    files = Lake(lake).table_files("events")
    [row] = duckdb.sql(f"select count(*), sum(hash(event_id, session_id)) from read_parquet({files!r})").fetchall()
    return row


def metric_rows(lake: Path) -> tuple[int, int]:
    """How many `steps` and `sessions` rows a lake holds, and a checksum of each column's values."""
    from agentwatch.lake import Lake

    con = Lake(lake).connect()
    return tuple(con.execute(f"select count(*), sum(hash(columns(*))) from {t}").fetchall()[0] for t in
                 ("steps", "sessions"))


def bench_metrics(args: argparse.Namespace, files: list[str], work: Path) -> None:
    """A full metrics build in one process, then on the cluster, each on a copy of one ingested lake."""
    ingested = args.out / f"scale-lake-{args.events}-{args.files}"
    if not (ingested / "_manifest").exists():
        ingested.mkdir(parents=True, exist_ok=True)
        measure(SERIAL, str(ingested), *files)
    rows = {}
    for name, code, extra in (("serial", METRICS_SERIAL, []),
                              ("dask", METRICS_DASK, [str(args.workers), str(args.chunk_events)])):
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        shutil.copytree(ingested, work / "lake")
        seconds, rss = measure(code, str(work / "lake"), *extra)
        rows[name] = metric_rows(work / "lake")
        print(f"{name:>6}: metrics over {args.events:,} events | {seconds:7.2f} s | "
              f"{args.events / seconds:9,.0f} events/s | peak RSS {rss:6.0f} MB")
    shutil.rmtree(work, ignore_errors=True)
    counts = tuple(table[0] for table in rows["serial"])
    print(f"same steps and sessions: {rows['serial'] == rows['dask']} (rows: {counts})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", choices=("ingest", "metrics"), default="ingest")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk-events", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    folder = args.out / f"scale-{args.events}-{args.files}"
    if not folder.exists():
        folder.mkdir(parents=True)
        for i in range(args.files):
            generate(folder / f"part-{i:03d}.jsonl", args.events // args.files, seed=7 + i)
    files = sorted(str(p) for p in folder.glob("part-*.jsonl"))
    mb = sum(Path(p).stat().st_size for p in files) / 1e6
    work = args.out / "scale-work"
    if args.stage == "metrics":
        bench_metrics(args, files, work)
        return
    rows = {}
    for name, code, extra in (("floor", FLOOR, []), ("serial", SERIAL, []), ("dask", DASK, [str(args.workers)])):
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        lake = work / "lake" if name != "floor" else work
        lake.mkdir(exist_ok=True)
        seconds, rss = measure(code, str(lake), *extra, *files)
        rows[name] = (seconds, rss, event_ids(lake) if name != "floor" else None)
        ratio = seconds / rows["floor"][0]
        print(f"{name:>6}: {args.events:,} events, {mb:.0f} MB in {args.files} files | {seconds:7.2f} s | "
              f"{args.events / seconds:9,.0f} events/s | peak RSS {rss:6.0f} MB | {ratio:.1f}x floor")
    shutil.rmtree(work, ignore_errors=True)
    same = rows["serial"][2] == rows["dask"][2]
    print(f"lakes hold the same events: {same} {rows['serial'][2]}")


if __name__ == "__main__":
    main()
