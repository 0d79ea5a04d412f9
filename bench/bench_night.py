"""The nightly run end to end at scale: a night of N events (default 10M), then an incremental night
of M new events (default 1M) on top of it, and a night of M events into a fresh lake beside them.

The sample generator writes one day of the fleet at N events (native JSONL.gz per agent, one agent's
sessions as OTLP/JSON) and a second day at M events; each night is `agentwatch run` in a fresh process
(the pipeline called directly, as `run` does by default), measured for wall seconds, events/s and peak
RSS of the process tree, with the seconds of each stage as `run` prints them. The floor of the night
is the bare polars NDJSON -> Parquet conversion of the same native files (decompressed once
beforehand, not timed), measured in the same run: no pipeline can write its events faster.

What the issue asks of these figures: peak RSS under 4 GB whatever the size; cost linear in events
(the fresh M-event night against the N-event night, per event); the incremental night costing in
proportion to its new events, not to the lake it lands on.

    python bench/bench_night.py [--events 10000000] [--new 1000000] [--dir /tmp/agentwatch-night]

The lake of the big night is kept in `<dir>/lake` (with its source in `<dir>/sample`), the layout
`bench/bench_app.py --keep <dir>` reuses to time the app's session page on it.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_run import AGENTWATCH, EVENTS_PER_DAY_AT_SCALE_1, measure  # noqa: E402

STAGE = re.compile(r"^\s+(ok|failed|skipped)\s+([\d.,]+) s\s+(\w+)", re.M)
FLOOR = """
import sys, polars as pl
for i, path in enumerate(sys.argv[2:]):
    pl.read_ndjson(path, infer_schema_length=None).write_parquet(f"{sys.argv[1]}/floor-{i}.parquet", compression="zstd")
"""


def generate(out: Path, events: int, start: str) -> None:
    scale = events / EVENTS_PER_DAY_AT_SCALE_1
    subprocess.run([AGENTWATCH, "sample", "--out", str(out), "--days", "1", "--scale", f"{scale:.2f}",
                    "--start", start], check=True, capture_output=True)


def floor(source: Path, work: Path) -> tuple[float, int]:
    """The bare polars NDJSON -> Parquet (zstd) of the source's native files, decompressed first."""
    plain = work / "floor-input"
    shutil.rmtree(plain, ignore_errors=True)
    plain.mkdir(parents=True)
    inputs = []
    for n, path in enumerate(sorted((source / "native").rglob("*.jsonl.gz"))):
        target = plain / f"{n:04d}.jsonl"
        with gzip.open(path, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        inputs.append(str(target))
    out = work / "floor-output"
    out.mkdir(exist_ok=True)
    seconds, peak, _ = measure([sys.executable, "-c", FLOOR, str(out), *inputs])
    shutil.rmtree(plain)
    shutil.rmtree(out)
    return seconds, peak


def night(lake: Path, source: Path, inventory: Path, home: Path) -> dict:
    env = {**os.environ, "HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    seconds, peak, text = measure([AGENTWATCH, "--lake", str(lake), "--inventory", str(inventory), "run",
                                   str(source)], env)
    if not re.search(r"^\s+status\s+ok\s*$", text, re.M):
        raise SystemExit(f"the run did not end ok:\n{text[-4000:]}")
    stages: dict[str, float] = {}
    for _, stage_seconds, stage in STAGE.findall(text):
        stages[stage] = stages.get(stage, 0.0) + float(stage_seconds.replace(",", ""))
    written = int(re.search(r"events written\s+([\d,]+)", text).group(1).replace(",", ""))
    return {"seconds": seconds, "peak": peak, "stages": stages, "events": written}


def row(name: str, result: dict, floor_seconds: float | None) -> str:
    stages = ", ".join(f"{k} {v:.0f} s" for k, v in result["stages"].items())
    versus = f"{result['seconds'] / floor_seconds:.1f}x" if floor_seconds else "—"
    rate = result["events"] / result["seconds"]
    return (f"| {name} | {result['events']:,} | {result['seconds']:.1f} s | {rate:,.0f} "
            f"| {result['peak'] / 2**30:.2f} GB | {versus} | {stages} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="events of the big night")
    parser.add_argument("--new", type=int, default=1_000_000, help="events of the incremental and the small night")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/agentwatch-night"))
    args = parser.parse_args()
    work = args.dir
    work.mkdir(parents=True, exist_ok=True)
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    big, nxt = work / "sample", work / "next"
    for folder, events, start in ((big, args.events, "2026-11-09"), (nxt, args.new, "2026-11-10")):
        if not (folder / "agents.yaml").exists():
            began = time.perf_counter()
            generate(folder, events, start)
            print(f"generated {folder.name}: {time.perf_counter() - began:.0f} s")
    inventory = big / "agents.yaml"
    for name in ("lake", "lake-small", "home"):
        shutil.rmtree(work / name, ignore_errors=True)
    floor_big = floor(big, work)
    print(f"floor, big night: {floor_big[0]:.1f} s, peak {floor_big[1] / 2**20:,.0f} MB")
    first = night(work / "lake", big, inventory, work / "home")
    print(row("night", first, floor_big[0]))
    incremental = night(work / "lake", nxt, inventory, work / "home")
    print(row("incremental night", incremental, None))
    floor_small = floor(nxt, work)
    small = night(work / "lake-small", nxt, inventory, work / "home")
    print(row("small night, fresh lake", small, floor_small[0]))
    shutil.rmtree(work / "lake-small", ignore_errors=True)

    print("\n| night | events written | wall | events/s | peak RSS (tree) | vs floor | stages |")
    print("|---|---|---|---|---|---|---|")
    print(row(f"{args.events:,}-event night, new lake", first, floor_big[0]))
    print(row(f"{args.new:,} new events on that lake", incremental, None))
    print(row(f"{args.new:,}-event night, new lake", small, floor_small[0]))
    per_event = {name: r["seconds"] / r["events"] * 1e6 for name, r in
                 (("big", first), ("incremental", incremental), ("small", small))}
    print(f"\nfloors: big night {floor_big[0]:.1f} s, small night {floor_small[0]:.1f} s")
    print("microseconds per event: " + ", ".join(f"{k} {v:.1f}" for k, v in per_event.items()))
    print(f"linearity: the big night costs {per_event['big'] / per_event['small']:.2f}x the small night per event; "
          f"the incremental night {incremental['seconds'] / small['seconds']:.2f}x a fresh night of as many events")
    worst = max(r["peak"] for r in (first, incremental, small))
    print(f"peak RSS: {worst / 2**30:.2f} GB (target < 4 GB: {'met' if worst < 4 * 2**30 else 'NOT met'})")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
