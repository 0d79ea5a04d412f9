"""Ingest benchmark: agentwatch's native ingest beside the bare polars NDJSON->Parquet floor.

Generates (seeded) native JSONL files of N events, then in fresh subprocesses measures wall time and
peak RSS of (a) `polars.read_ndjson` + `write_parquet` (zstd) of the same file and (b) `agentwatch
ingest` into an empty lake (secrets masked, hostile text flagged, dedup, sorted, manifest). Peak
memory is compared across sizes to show it does not grow with the input.

    python bench/bench_ingest.py [--events 1000000 2000000] [--out bench/out]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import orjson

FLOOR = """
import polars as pl, sys
pl.read_ndjson(sys.argv[1]).write_parquet(sys.argv[2], compression="zstd")
"""
OURS = """
import sys
from pathlib import Path
from agentwatch.ingest.pipeline import ingest_paths
report = ingest_paths(Path(sys.argv[2]), [Path(sys.argv[1])])
f = report.files[0]
assert f.reconciles() and f.events_written > 0, f
print(f"written={f.events_written} quarantined={f.quarantined} redactions={f.redactions}", file=sys.stderr)
"""
RUNNER = """
import resource, runpy, sys, time
code = sys.argv[1]
sys.argv = sys.argv[1:]
t = time.perf_counter()
exec(compile(code, "<bench>", "exec"), {"__name__": "__main__"})
wall = time.perf_counter() - t
print(f"{wall} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")
"""

TOOLS = ("bash", "read_file", "edit_file", "run_query", "http_get", "send_email", "git_push")
WORDS = ("deploy", "fix", "the", "failing", "test", "in", "payments", "service", "check", "logs", "retry",
         "database", "migration", "customer", "invoice", "report", "branch", "config", "timeout", "cache")


def generate(path: Path, events: int, seed: int = 7) -> None:
    """A native JSONL file shaped like the sample fleet's traffic (1 in 500 lines carries a secret)."""
    rng = random.Random(seed)
    with open(path, "wb") as out:
        for i in range(events):
            session = i // 40
            kind = ("user_prompt", "reasoning", "tool_call", "tool_result", "llm_response")[i % 5]
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))
            if rng.random() < 0.002:
                text += f" export AWS_ACCESS_KEY_ID=AKIA{rng.getrandbits(64):016X}"
            record = {
                "ts": f"2026-11-{9 + session % 14:02d}T{(session // 14) % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}Z",
                "agent_id": f"agent-{session % 6}",
                "session_id": f"{rng.getrandbits(64):016x}" if i % 40 == 0 else f"s-{session}",
                "seq": i % 40,
                "event_type": kind,
                "text": text,
                "attrs": {"host": f"runner-{session % 9}", "latency_ms": rng.randint(5, 900)},
            }
            if kind in ("tool_call", "tool_result"):
                record["tool_name"] = rng.choice(TOOLS)
                record["tool_call_id"] = f"call-{i // 2}"
                record["tool_args"] = {"path": f"/srv/app/{rng.choice(WORDS)}/{i % 97}.py", "limit": i % 50}
            if kind == "llm_response":
                record["model"] = "gpt-5"
                record["input_tokens"] = rng.randint(200, 9000)
                record["output_tokens"] = rng.randint(20, 900)
            out.write(orjson.dumps(record) + b"\n")


def measure(code: str, *args: str) -> tuple[float, float]:
    """Run `code` in a fresh interpreter; return (seconds, peak RSS in MB)."""
    proc = subprocess.run([sys.executable, "-c", RUNNER, code, *args], capture_output=True, text=True, check=True)
    wall, rss_kb = proc.stdout.strip().splitlines()[-1].split()[-2:]
    if proc.stderr.strip():
        print("   ", proc.stderr.strip().splitlines()[-1])
    return float(wall), int(rss_kb) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 2_000_000])
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for n in args.events:
        src = args.out / f"native-{n}.jsonl"
        if not src.exists():
            t = time.perf_counter()
            generate(src, n)
            print(f"generated {n:,} events in {time.perf_counter() - t:.1f}s")
        size_mb = src.stat().st_size / 1e6
        src.read_bytes()  # warm the page cache for both contenders alike
        floor_s, floor_mb = measure(FLOOR, str(src), str(args.out / "floor.parquet"))
        lake = args.out / "lake"
        shutil.rmtree(lake, ignore_errors=True)
        ours_s, ours_mb = measure(OURS, str(src), str(lake))
        shutil.rmtree(lake, ignore_errors=True)
        row = {"events": n, "mb": round(size_mb, 1), "floor_s": round(floor_s, 2), "floor_rss_mb": round(floor_mb),
               "ours_s": round(ours_s, 2), "ours_rss_mb": round(ours_mb), "ratio": round(ours_s / floor_s, 2),
               "ours_events_per_s": round(n / ours_s), "ours_mb_per_s": round(size_mb / ours_s, 1)}
        results.append(row)
        print(f"{n:>10,} events {size_mb:8.1f} MB | floor {floor_s:6.2f}s {floor_mb:6.0f} MB RSS | "
              f"agentwatch {ours_s:6.2f}s {ours_mb:6.0f} MB RSS | {row['ours_events_per_s']:,} ev/s "
              f"{row['ours_mb_per_s']} MB/s | {row['ratio']}x floor")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
