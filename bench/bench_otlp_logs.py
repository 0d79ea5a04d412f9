"""OTLP logs benchmark: Claude Code log requests (`resourceLogs` lines, as a Collector's file exporter
or `agentwatch receive` writes them) -> `ingest`, per-record (the path main takes for logs) and bulk.

Generates N log records (seeded): sessions of a user prompt, API requests, tool decisions and tool
results with varied session ids, prompts and tool calls, 100 records a request (the SDK's batches).
Each side runs in a fresh process on the same file (page cache warm); printed: wall seconds, log
records/s, peak RSS and the load average around the run.

    python bench/bench_otlp_logs.py [--records 200000] [--out bench/out]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_ingest import measure  # noqa: E402

BASE_NS = 1764597600_000000000
PER_REQUEST = 100
TOOLS = ("Bash", "Read", "Edit", "Write", "Grep", "WebFetch")
WORDS = ("fix", "the", "failing", "test", "in", "pricing", "deploy", "check", "logs", "refactor", "module")
INGEST = """
import sys
from pathlib import Path
from agentwatch.ingest import decode
from agentwatch.ingest.formats.otlp.fast import files as otlp_fast_files
from agentwatch.ingest.pipeline import ingest_paths
if sys.argv[3] == "per-record":  # main's path for logs: every line one record at a time
    nothing = lambda con, table, *args: decode.PreparedLines(  # noqa: E731
        decode.EVENT_SCHEMA.empty_table().append_column("line_no", table.column("line_no").slice(0, 0)),
        table.column("line_no").slice(0, 0))
    decode.decode_otlp_logs_fast = otlp_fast_files.decode_otlp_logs_fast = nothing
report = ingest_paths(Path(sys.argv[2]), [Path(sys.argv[1])], fmt="otlp_logs")
f = report.files[0]
assert f.reconciles() and f.events_written > 0, f
print(f"records={f.items_decoded} events={f.events_written} quarantined={f.quarantined}", file=sys.stderr)
"""


def value(v: object) -> dict:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    return {"stringValue": v}


def log_record(rng: random.Random, n: int, session: str, name: str, attrs: dict) -> dict:
    common = {"user.id": "3f2a9c", "session.id": session, "organization.id": "org-7",
              "user.email": f"dev{n % 40}@example.com", "terminal.type": "vscode", "event.name": name,
              "event.sequence": n, "prompt.id": f"p-{n // 8}"}
    t = BASE_NS + n * 1_000_000_000 + rng.randrange(1_000_000)
    return {"timeUnixNano": str(t), "observedTimeUnixNano": str(t + 5_000_000),
            "body": {"stringValue": f"claude_code.{name}"},
            "attributes": [{"key": k, "value": value(v)} for k, v in {**common, **attrs}.items()]}


def session_records(rng: random.Random, n: int, session: str) -> list[dict]:
    """One prompt's worth of Claude Code events (8 records)."""
    tool, call = rng.choice(TOOLS), f"toolu_{n:08x}"
    prompt = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(3, 12)))
    decision = rng.choice([("accept", "user_temporary"), ("accept", "config"), ("reject", "user_reject")])
    api = {"model": "claude-sonnet-4-5", "cost_usd": round(rng.random() / 10, 4),
           "duration_ms": str(rng.randrange(200, 9000)), "input_tokens": str(rng.randrange(5, 900)),
           "output_tokens": str(rng.randrange(5, 900)), "cache_read_tokens": str(rng.randrange(0, 30000)),
           "cache_creation_tokens": "0", "request_id": f"req_{n:08x}"}
    result = {"tool_name": tool, "success": rng.choice(["true", "false"]), "duration_ms": str(rng.randrange(1, 5000)),
              "tool_use_id": call, "tool_parameters": json.dumps({"bash_command": prompt.split()[0],
                                                                  "full_command": prompt}),
              "tool_result_size_bytes": str(rng.randrange(10, 99999))}
    specs = [("user_prompt", {"prompt_length": str(len(prompt)), "prompt": prompt}), ("api_request", api),
             ("tool_decision", {"tool_name": tool, "decision": decision[0], "source": decision[1],
                                "tool_use_id": call}),
             ("tool_result", result), ("api_request", api), ("tool_result", {**result, "tool_use_id": call + "b"}),
             ("api_error", {"model": "claude-sonnet-4-5", "error": "Request timed out", "status_code": "undefined",
                            "attempt": "1"}),
             ("api_request", api)]
    return [log_record(rng, n + i, session, name, attrs) for i, (name, attrs) in enumerate(specs)]


def generate(path: Path, records: int, seed: int = 7) -> None:
    """`records` log records, PER_REQUEST a line, sessions of 8 records each."""
    rng = random.Random(seed)
    service = {"service.name": "claude-code", "service.version": "2.0.14", "os.type": "linux"}
    resource = {"attributes": [{"key": k, "value": {"stringValue": v}} for k, v in service.items()]}
    scope = {"name": "com.anthropic.claude_code.events", "version": "2.0.14"}
    with path.open("w") as out:
        batch: list[dict] = []
        for n in range(0, records, 8):
            batch.extend(session_records(rng, n, f"sess-{n // 64:06d}-{rng.randrange(1 << 30):08x}"))
            if len(batch) >= PER_REQUEST or n + 8 >= records:
                request = {"resourceLogs": [{"resource": resource,
                                             "scopeLogs": [{"scope": scope, "logRecords": batch}]}]}
                out.write(json.dumps(request, separators=(",", ":")) + "\n")
                batch = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    src = args.out / f"claude-code-logs-{args.records}.jsonl"
    if not src.exists():
        generate(src, args.records)
    src.read_bytes()  # warm the page cache for both sides alike
    for side in ("per-record", "bulk"):
        lake = args.out / f"lake-logs-{side}"
        shutil.rmtree(lake, ignore_errors=True)
        load_before = os.getloadavg()[0]
        seconds, rss_mb = measure(INGEST, str(src), str(lake), side)
        shutil.rmtree(lake, ignore_errors=True)
        print(json.dumps({"side": side, "records": args.records, "mb": round(src.stat().st_size / 1e6, 1),
                          "seconds": round(seconds, 2), "records_per_s": round(args.records / seconds),
                          "peak_rss_mb": round(rss_mb), "load_before": round(load_before, 2),
                          "load_after": round(os.getloadavg()[0], 2)}), flush=True)


if __name__ == "__main__":
    main()
