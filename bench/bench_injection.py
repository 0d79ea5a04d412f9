"""The injection signal's quality and speed: precision and recall on the labelled set (mail, web pages,
tickets, documents, code; three splits written at different times), which sessions of the sample fleet
it flags, and rows/s on a million texts.

Run: .venv/bin/python bench/bench_injection.py [--rows N]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import orjson
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agentwatch.ingest.pipeline import ingest_paths  # noqa: E402
from agentwatch.ingest.sanitize.injection import injection_flags, injection_spans  # noqa: E402
from agentwatch.ingest.sanitize.sanitizer import Sanitizer  # noqa: E402

LABELLED = ROOT / "tests" / "fixtures" / "injection_labelled.jsonl"


def load_labelled() -> pl.DataFrame:
    """The labelled set: split, source (mail, web, ticket, doc, code), label, text."""
    return pl.DataFrame([orjson.loads(line) for line in LABELLED.read_bytes().splitlines() if line])


def scores(frame: pl.DataFrame) -> dict[str, float]:
    """Precision, recall and counts of the signal over a labelled frame."""
    fired = injection_flags(frame.get_column("text"))
    label = frame.get_column("label") == 1
    tp, fp, fn = int((fired & label).sum()), int((fired & ~label).sum()), int((~fired & label).sum())
    return {"precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / (tp + fn) if tp + fn else 1.0,
            "tp": tp, "fp": fp, "fn": fn, "n": frame.height}  # fmt: skip


def print_scores(name: str, s: dict[str, float]) -> None:
    print(f"  {name:12} precision {s['precision']:6.1%}  recall {s['recall']:6.1%}"
          f"  (tp {s['tp']}, fp {s['fp']}, fn {s['fn']}, of {s['n']})")  # fmt: skip


def labelled_report() -> None:
    frame = load_labelled()
    print(f"labelled set: {frame.height} texts, {int(frame['label'].sum())} injections")
    print_scores("all", scores(frame))
    for key in ("split", "source"):
        for value in frame.get_column(key).unique(maintain_order=True):
            print_scores(value, scores(frame.filter(pl.col(key) == value)))
    fired = frame.with_row_index("row").filter(injection_flags(frame["text"]) & (pl.col("label") == 0))
    for row in fired.iter_rows(named=True):
        print(f"  false positive ({row['source']}): {row['text'][:90]!r}")
    spans = injection_spans(frame.get_column("text"))
    print(
        f"  evidence spans: {spans.height} over {spans['row'].n_unique()} texts; kinds {dict(Counter(spans['kind']))}"
    )


def sample_report() -> None:
    """Ingest the committed sample fleet and compare flagged sessions with its labels."""
    labels = {r["session_id"]: r["scenario"] for r in csv.DictReader((ROOT / "data/sample/labels.csv").open())}
    with tempfile.TemporaryDirectory() as tmp:
        ingest_paths(Path(tmp), [ROOT / "data/sample"], now=datetime(2026, 12, 1, tzinfo=UTC),
                     sanitizer=Sanitizer(b"bench"))  # fmt: skip
        events = pl.read_parquet(f"{tmp}/events/**/*.parquet", hive_partitioning=False)
    flagged = events.filter(pl.col("flags").list.contains("injection_phrasing"))
    sessions = Counter(labels.get(s, "?") for s in flagged["session_id"].unique())
    injected = sum(1 for s in labels.values() if s == "prompt_injection")
    print(
        f"sample fleet: {events.height:,} events; {flagged.height} flagged events in {sum(sessions.values())} sessions"
        f" by scenario {dict(sessions)}; prompt_injection sessions in the labels: {injected}"
    )


def throughput(rows: int) -> None:
    frame = load_labelled()
    pool = frame["text"].to_list() + [
        "Running the test suite now. 142 passed in 12.3s.", "Fetched https://example.com/docs (200 OK, 14 kB).",
        "The customer asked for a refund on order 88123; policy allows it within 30 days.",
        "diff --git a/src/app.py b/src/app.py\n-    return None\n+    return {}",
    ] * 40  # fmt: skip
    texts = pl.Series("text", pool).sample(rows, with_replacement=True, seed=7)
    start = time.perf_counter()
    fired = injection_flags(texts)
    took = time.perf_counter() - start
    print(
        f"injection_flags over {rows:,} texts ({texts.str.len_bytes().sum() / 1e6:.0f} MB): {took:.2f} s ="
        f" {rows / took:,.0f} texts/s; {int(fired.sum()):,} fired"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    labelled_report()
    sample_report()
    throughput(args.rows)


if __name__ == "__main__":
    main()
