"""Benchmark `agentwatch run`: the committed sample and a generated 1M-event day, each into a fresh lake,
once calling the pipeline directly (the default) and once as a Prefect flow (`--prefect`: a temporary
local Prefect server, task runs, the artifact). Prefect's overhead = the difference; the pipeline's
own wall time (printed by `run`) splits it into start-up/teardown and in-flow (task) overhead.
Peak memory is the peak summed RSS of the whole process tree (the Prefect server included).

Usage: python bench/bench_run.py [--events N] [--repeat N] [--skip-large]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
AGENTWATCH = str(Path(sys.executable).parent / "agentwatch")
EVENTS_PER_DAY_AT_SCALE_1 = 1_414  # the committed sample: 19,804 events over 14 days


def measure(args: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS of the process tree (bytes), stdout and stderr of one command."""
    began = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        child = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        root, peak = psutil.Process(child.pid), 0
        while child.poll() is None:
            peak = max(peak, _tree_rss(root))
            time.sleep(0.05)
        seconds = time.perf_counter() - began
        out.seek(0)
        text = out.read().decode()
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(args)} exited {child.returncode}:\n{text}")
    return seconds, peak, text


def _tree_rss(root: psutil.Process) -> int:
    total = 0
    try:
        for process in [root, *root.children(recursive=True)]:
            total += process.memory_info().rss
    except psutil.Error:
        pass  # a process ended while we looked
    return total


def pipeline_seconds(text: str) -> float:
    """The pipeline's own wall time, from the summary `run` prints."""
    return float(re.search(r"wall time \(s\)\s+([\d.,]+)", text).group(1).replace(",", ""))


def events_written(text: str) -> int:
    return int(re.search(r"events written\s+([\d,]+)", text).group(1).replace(",", ""))


def run_once(name: str, mode: str, source: Path, inventory: Path, work: Path, attempt: int) -> tuple[float, int, str]:
    """One `agentwatch run` into a fresh lake."""
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "HOME": str(work / "home")}
    lake = work / f"lake-{name}-{mode}-{attempt}"
    args = [AGENTWATCH, "--lake", str(lake), "--inventory", str(inventory), "run", str(source)]
    result = measure(args + (["--prefect"] if mode == "prefect" else []), env)
    shutil.rmtree(lake, ignore_errors=True)
    return result


def bench_input(name: str, source: Path, inventory: Path, work: Path,
                repeat: int) -> tuple[list[str], float, float]:
    """Both modes on one input, alternating, `repeat` times each; rows use the fastest of each mode
    (the least disturbed by other jobs on the shared cores). Returns rows, Prefect's overhead, direct wall."""
    runs: dict[str, list[tuple[float, int, str]]] = {"direct": [], "prefect": []}
    for attempt in range(repeat):
        for mode in runs:
            runs[mode].append(run_once(name, mode, source, inventory, work, attempt))
    (d_wall, _, d_out), (p_wall, _, p_out) = (min(runs[m], key=lambda r: r[0]) for m in ("direct", "prefect"))
    d_peak, p_peak = (max(r[1] for r in runs[m]) for m in ("direct", "prefect"))
    overhead, in_flow = p_wall - d_wall, pipeline_seconds(p_out) - pipeline_seconds(d_out)
    events = events_written(d_out)
    spread = {m: ", ".join(f"{r[0]:.1f}" for r in runs[m]) for m in runs}
    rows = [
        f"| {name} | {events:,} | direct | {d_wall:.1f} s ({spread['direct']}) | {pipeline_seconds(d_out):.1f} s | "
        f"— | {events / d_wall:,.0f} | {d_peak / 2**20:,.0f} MiB |",
        f"| {name} | {events_written(p_out):,} | prefect | {p_wall:.1f} s ({spread['prefect']}) | "
        f"{pipeline_seconds(p_out):.1f} s | {overhead:+.1f} s ({overhead / p_wall:.0%} of the run; in-flow "
        f"{in_flow:+.1f} s) | {events / p_wall:,.0f} | {p_peak / 2**20:,.0f} MiB |",
    ]
    return rows, overhead, d_wall


def generate_day(events: int, out: Path) -> Path:
    scale = events / EVENTS_PER_DAY_AT_SCALE_1
    subprocess.run([AGENTWATCH, "sample", "--out", str(out), "--days", "1", "--scale", f"{scale:.2f}"],
                   check=True, capture_output=True)
    return out


def main() -> None:
    """Print a markdown table: input, events, mode, process wall, pipeline wall, Prefect overhead, rate, peak."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000, help="Events of the generated day.")
    parser.add_argument("--repeat", type=int, default=3, help="Runs of each mode on the sample.")
    parser.add_argument("--skip-large", action="store_true", help="Only the committed sample.")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    rows = ["| input | events | mode | process wall: best (all runs) | pipeline wall | Prefect overhead | events/s "
            "| peak RSS (tree) |", "|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        work = Path(tmp)
        sample = ROOT / "data" / "sample"
        sample_rows, fixed, _ = bench_input("sample", sample, sample / "agents.yaml", work, args.repeat)
        rows += sample_rows
        if not args.skip_large:
            day = generate_day(args.events, work / "day")
            day_rows, _, direct = bench_input("1 day", day, day / "agents.yaml", work, 1)
            rows += day_rows
            rows.append(f"\nPrefect's fixed overhead (best sample runs) {fixed:.1f} s = {fixed / (direct + fixed):.0%} "
                        f"of a Prefect run of the day whose direct run took {direct:.1f} s")
    print("\n".join(rows))
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
