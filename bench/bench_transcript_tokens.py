"""Token sums of Claude Code transcripts against each message's final usage, computed apart.

Claude Code writes one record per content block of a streamed response and repeats the message's usage
on each, partial until the last. This script reads the transcripts under a folder twice: once by itself
(each message id's last record's usage, plain JSON, no agentwatch code) and once through agentwatch
(ingest into a fresh lake, metrics, `sessions.sum_*_tokens`). It prints both, what the first record of
each message says (what a metric counting the first record would sum), and the gap.

    .venv/bin/python bench/bench_transcript_tokens.py FOLDER
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from agentwatch.detectors.metrics.run import run_metrics
from agentwatch.ingest.pipeline import expand_inputs, ingest_paths
from agentwatch.lake import Lake

NOW = datetime(2030, 1, 1, tzinfo=UTC)
INPUT_KEYS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def usage_by_message(files: list[Path]) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """(first, last) usage of every message id, as (input incl. cache, output)."""
    first: dict[str, tuple[int, int]] = {}
    last: dict[str, tuple[int, int]] = {}
    for path in files:
        for raw in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(raw) if raw.strip() else None
            message = record.get("message") if isinstance(record, dict) and record.get("type") == "assistant" else None
            usage = message.get("usage") if isinstance(message, dict) else None
            if not usage or not message.get("id"):
                continue
            pair = (sum(usage.get(k) or 0 for k in INPUT_KEYS), usage.get("output_tokens") or 0)
            first.setdefault(message["id"], pair)
            last[message["id"]] = pair
    return first, last


def lake_sums(files: list[Path]) -> tuple[int, int]:
    """Input and output tokens over every session, as agentwatch's metrics sum them."""
    with tempfile.TemporaryDirectory() as scratch:
        lake = Path(scratch) / "lake"
        ingest_paths(lake, files, fmt="claude_code", now=NOW)
        run_metrics(lake, {})
        (row,) = Lake(lake).connect().execute(
            "select sum(sum_input_tokens), sum(sum_output_tokens) from sessions").fetchall()
    return int(row[0] or 0), int(row[1] or 0)


def main() -> None:
    """Print the three sums and the gaps."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="Claude Code transcripts (.jsonl), searched recursively")
    files = expand_inputs([parser.parse_args().folder])
    first, last = usage_by_message(files)
    truth = (sum(v[0] for v in last.values()), sum(v[1] for v in last.values()))
    firsts = (sum(v[0] for v in first.values()), sum(v[1] for v in first.values()))
    got = lake_sums(files)
    print(f"{len(files)} files, {len(last)} messages with usage, "
          f"{sum(first[m] != last[m] for m in last)} whose usage grew after their first record")
    for name, (inp, out) in (("final usage (independent)", truth), ("first record of each message", firsts),
                             ("agentwatch sessions", got)):
        low = 100 * (1 - out / truth[1]) if truth[1] else 0.0
        print(f"  {name:<30} input {inp:>12,}  output {out:>10,}  output {low:5.1f}% below final")


if __name__ == "__main__":
    main()
