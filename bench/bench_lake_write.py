"""Benchmark: a derived table written through the lake writer beside DuckDB's own COPY.

    .venv/bin/python bench/bench_lake_write.py [--events 1000000] [--dir /tmp/aw-bench]

Metrics used to `COPY (...) TO 'file' (format parquet, compression zstd)` into the lake; they now
stage the same relation with `LakeWriter.replace`, which streams it through Arrow into a zstd
Parquet file, hashes it and commits it. Both write the generated events sorted as `steps` is
(agent_id, session_id, seq); the script prints the seconds of each and their ratio.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from bench_metrics import connect, generate

from agentwatch.lake import Lake, quote_literal

ORDER = "select * from events order by agent_id, session_id, seq"


def time_copy(events: Path, out: Path) -> float:
    con = connect(events)
    start = time.perf_counter()
    con.execute(f"copy ({ORDER}) to {quote_literal(str(out))} (format parquet, compression zstd)")
    return time.perf_counter() - start


def time_writer(events: Path, root: Path) -> float:
    con = connect(events)
    start = time.perf_counter()
    with Lake(root).writer() as writer:
        writer.replace("steps", con.sql(ORDER))
        writer.commit("bench")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/aw-bench"))
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    events = args.dir / f"events-{args.events}.parquet"
    generate(events, args.events)
    shutil.rmtree(args.dir / "lake-write", ignore_errors=True)
    copy = time_copy(events, args.dir / "copy.parquet")
    ours = time_writer(events, args.dir / "lake-write")
    size = ((args.dir / "copy.parquet").stat().st_size,
            sum(p.stat().st_size for p in (args.dir / "lake-write" / "steps").iterdir()))
    print(f"{args.events:,} events: COPY {copy:.2f} s ({size[0] / 1e6:.0f} MB), lake writer {ours:.2f} s "
          f"({size[1] / 1e6:.0f} MB), ratio {ours / copy:.2f}x")


if __name__ == "__main__":
    main()
