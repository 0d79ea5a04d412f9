"""The committed sample fleet, ingested, measured and detected once per test module that needs it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from agentwatch.detectors.detect.run import run_detect
from agentwatch.detectors.metrics.run import run_metrics
from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.inventory import load_inventory
from agentwatch.lake import Lake
from tests.support.paths import SAMPLE

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def detected_sample_lake(root: Path) -> Lake:
    """The sample fleet in a new lake at `root`: ingested, metrics built, detectors run (built-in rules)."""
    ingest_paths(root, [SAMPLE], now=NOW)
    run_metrics(root, load_inventory(SAMPLE / "agents.yaml"))
    run_detect(Lake(root), rules_dirs=[], now=NOW)
    return Lake(root)
