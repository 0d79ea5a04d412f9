"""Benchmark the sample generator: about 1M events into a temporary folder; events/s and peak RSS.

Usage: python bench/bench_sample.py [--events N] [--no-gzip]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time

import psutil

from agentwatch.sample.generate import write_sample

EVENTS_AT_SCALE_1 = 19_450  # 14 days, default seed


def sample_rss(stop: threading.Event, peak: list[int]) -> None:
    """Poll this process's resident set size until stopped; keep the maximum."""
    process = psutil.Process()
    while not stop.wait(0.05):
        peak[0] = max(peak[0], process.memory_info().rss)


def main() -> None:
    """Generate, then print events, seconds, events/s and peak RSS."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--no-gzip", action="store_true")
    args = parser.parse_args()
    scale = args.events / EVENTS_AT_SCALE_1
    stop, peak = threading.Event(), [psutil.Process().memory_info().rss]
    watcher = threading.Thread(target=sample_rss, args=(stop, peak), daemon=True)
    watcher.start()
    with tempfile.TemporaryDirectory(prefix="bench-sample-") as out:
        began = time.perf_counter()
        summary = write_sample(out, scale=scale, gzip=not args.no_gzip, progress=None)
        seconds = time.perf_counter() - began
    stop.set()
    watcher.join()
    print(f"events {summary['events']:,}  sessions {summary['sessions']:,}  seconds {seconds:.1f}  "
          f"events/s {summary['events'] / seconds:,.0f}  peak RSS {peak[0] / 2**20:,.0f} MiB  "
          f"gzip {not args.no_gzip}", file=sys.stdout)


if __name__ == "__main__":
    main()
