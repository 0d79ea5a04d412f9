"""Benchmark: rules + anomaly models over a metrics-built lake, beside a bare IsolationForest.

    .venv/bin/python bench/bench_detect.py --events 1000000 [--events 10000000] [--dir /tmp/aw-bench]

For each size it generates the events (bench/generate_events.sql, as bench_metrics.py does), builds
the metrics once (setup, not timed) to Parquet, then measures each phase in a fresh process (peak
RSS sampled every 20 ms):
  detect   the whole detector pass over views on those files: detector tables (taxonomy, fleet peers),
           every built-in rule, the per-agent anomaly models, the session scores and alerts
  bare     IsolationForest (same trees, same seed) fit + score of the same feature matrix, read from
           Parquet: the floor of any forest-based anomaly detector
and prints seconds, peak RSS and the detect phase's split (tables, rules, anomaly, scores).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from bench_metrics import connect, generate, measured
from sklearn.ensemble import IsolationForest

from agentwatch.detectors.detect.anomaly import SEED, TREES
from agentwatch.detectors.detect.findings import find_rule_hits, prepare_detect_tables
from agentwatch.detectors.detect.rules import BUILTIN_RULES_DIR, load_rules
from agentwatch.detectors.detect.run import detect_tables
from agentwatch.detectors.metrics.models import build_metrics

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def build_lake(path: Path) -> Path:
    """steps/ and sessions/ Parquet beside the events (once per size)."""
    out = path.parent / f"{path.stem}-metrics"
    if not (out / "sessions").exists():
        build_metrics(connect(path), {}, out_dir=out)
    return out


def lake_connection(events: Path, metrics: Path) -> duckdb.DuckDBPyConnection:
    con = connect(events)
    for name in ("steps", "sessions"):
        con.read_parquet(str(metrics / name / "part-*.parquet")).create_view(name)
    return con


def run_detect(events: Path, metrics: Path, features: Path) -> dict[str, float]:
    con = lake_connection(events, metrics)
    split, started = {}, time.perf_counter()
    prepare_detect_tables(con)
    split["tables"] = time.perf_counter() - started
    rules = load_rules([BUILTIN_RULES_DIR])
    started = time.perf_counter()
    find_rule_hits(con, rules)
    split["rules"] = time.perf_counter() - started
    started = time.perf_counter()
    detect_tables(con, rules, {"steps", "sessions"}, now=NOW)  # tables again + rules again + anomaly + scores
    split["rules+anomaly+scores"] = time.perf_counter() - started
    from agentwatch.detectors.detect.anomaly import _feature_query

    con.sql(_feature_query()).write_parquet(str(features))
    return split


def run_bare(features: Path) -> dict[str, float]:
    x = duckdb.sql(f"select * exclude (agent_id, session_id, started_at) from read_parquet('{features}')").fetchnumpy()
    import numpy as np

    matrix = np.column_stack(list(x.values()))
    forest = IsolationForest(n_estimators=TREES, max_samples=256, random_state=SEED).fit(matrix)
    forest.score_samples(matrix)
    return {"rows": float(matrix.shape[0]), "features": float(matrix.shape[1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, action="append", help="events to generate (repeatable)")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/agentwatch-bench"))
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    print(f"{'events':>10} {'sessions':>9} {'phase':>7} {'seconds':>8} {'peak GB':>8}")
    for events in args.events or [1_000_000]:
        path = args.dir / f"events-{events}.parquet"
        generate(path, events)
        metrics = build_lake(path)
        con = lake_connection(path, metrics)
        rows = con.sql("select count(*) from events").fetchall()[0][0]
        sessions = con.sql("select count(*) from sessions").fetchall()[0][0]
        features = args.dir / f"features-{events}.parquet"
        detect_seconds, detect_peak, split = measured(run_detect, path, metrics, features)
        bare_seconds, bare_peak, shape = measured(run_bare, features)
        # run_detect timed the tables and rules once alone, then the full pass (which redoes them)
        full = split["rules+anomaly+scores"]
        print(f"{rows:>10} {sessions:>9} {'detect':>7} {full:>8.2f} {detect_peak:>8.2f}")
        print(f"{rows:>10} {sessions:>9} {'bare':>7} {bare_seconds:>8.2f} {bare_peak:>8.2f}")
        rest = full - split["tables"] - split["rules"]
        print(f"           detect split: detector tables {split['tables']:.2f} s, "
              f"{len(load_rules([BUILTIN_RULES_DIR]))} rules {split['rules']:.2f} s, anomaly + scores + alerts "
              f"{rest:.2f} s; bare forest on {int(shape['rows'])} x {int(shape['features'])}")


if __name__ == "__main__":
    main()
