"""The test lanes' time: `make test-fast` and/or `make test` run as a developer runs them, with the wall
clock, the CPU seconds of the whole process tree and the load average beside them.

On shared cores the wall clock says more about the neighbours than about the suite: the CPU seconds
(user + system of make and everything it started) are the steadier reading, and the load average
sampled during the run says how crowded the machine was.

    .venv/bin/python bench/bench_tests.py                 # both lanes, the fast one first
    .venv/bin/python bench/bench_tests.py --lane test-fast
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LANES = ("test-fast", "test")
SUMMARY = re.compile(r"^=*\s*(\d+ (?:passed|failed).*?) in [\d.]+s", re.MULTILINE)


def sample_load(stop: threading.Event, seen: list[float], every: float = 10.0) -> None:
    """The 1-minute load average, every `every` seconds until `stop` is set."""
    while True:
        seen.append(os.getloadavg()[0])
        if stop.wait(every):
            return


def run_lane(lane: str) -> dict[str, object]:
    """One `make <lane>`: its exit status, wall and CPU seconds, load average, pytest's summary line."""
    loads: list[float] = []
    stop = threading.Event()
    sampler = threading.Thread(target=sample_load, args=(stop, loads), daemon=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    sampler.start()
    done = subprocess.run(["make", lane], cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - started
    stop.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    found = SUMMARY.findall(done.stdout)
    return {
        "lane": lane, "exit": done.returncode, "wall": wall,
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "load": (min(loads), sorted(loads)[len(loads) // 2], max(loads)),
        "summary": found[-1] if found else done.stdout[-500:] + done.stderr[-500:],
    }


def report(result: dict[str, object]) -> str:
    """One line per lane."""
    low, median, high = result["load"]
    return (f"make {result['lane']:<9} exit {result['exit']} | wall {result['wall']:7.1f} s "
            f"({result['wall'] / 60:4.1f} min) | CPU {result['cpu']:7.1f} s | load {low:.1f} / {median:.1f} / "
            f"{high:.1f} (min / median / max) | {result['summary']}")


def main() -> None:
    """Run the lanes asked for, one after the other, and print a line for each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lane", choices=LANES, action="append", help="a lane to run (default: both)")
    lanes = parser.parse_args().lane or list(LANES)
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores", flush=True)
    for lane in lanes:
        print(report(run_lane(lane)), flush=True)


if __name__ == "__main__":
    main()
