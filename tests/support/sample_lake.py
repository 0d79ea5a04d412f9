"""The committed sample fleet as lakes built by the real stages, once per test session: ingested,
measured, detected. Tests read them in place; a test that writes takes a copy (a folder copy costs a
few milliseconds, a build ten seconds). The session fixtures in tests/conftest.py check at the end
that no test wrote to them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.paths import SAMPLE

INVENTORY = SAMPLE / "agents.yaml"
LABELS = SAMPLE / "labels.csv"
NOW = datetime(2026, 11, 24, tzinfo=UTC)  # the day after the sample fleet's last day


@contextmanager
def isolated_environment(home: Path) -> Iterator[None]:
    """The environment tests/conftest.py gives every test (own home, the test masking key, no lake
    settings), for what a session fixture builds before any test's own fixtures are set up."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        patch.setenv("PREFECT_HOME", str(home / ".prefect"))
        patch.setenv("AGENTWATCH_REDACTION_KEY", "test-key")
        for name in ("AGENTWATCH_LAKE", "AGENTWATCH_INVENTORY", "AGENTWATCH_CONFIG"):
            patch.delenv(name, raising=False)
        yield


def ingest_sample(lake: Path) -> Path:
    """The sample fleet (native and OTLP files) ingested into a new lake at `lake`."""
    from agentwatch.ingest.pipeline import ingest_paths

    ingest_paths(lake, [SAMPLE], now=NOW)
    return lake


def measure(lake: Path) -> Path:
    """`steps` and `sessions` built by the metrics stage, with the sample inventory."""
    from agentwatch.detectors.metrics.run import run_metrics
    from agentwatch.inventory import load_inventory

    run_metrics(lake, load_inventory(INVENTORY))
    return lake


def detect(lake: Path) -> Path:
    """Scores, findings and alerts by the detect stage (built-in rules only)."""
    from agentwatch.detectors.detect.run import run_detect

    run_detect(lake, rules_dirs=[], now=NOW)
    return lake


def place_risk(lake: Path) -> Path:
    """`agent_risk`, risk findings and risk alerts by the risk stage, with the sample inventory."""
    from agentwatch.detectors.risk.run import run_risk
    from agentwatch.inventory import load_inventory

    run_risk(lake, inventory=load_inventory(INVENTORY), now=NOW)
    return lake


def copy_lake(source: Path, target: Path) -> Path:
    """A private copy of a built lake at `target`, for a test that writes."""
    shutil.copytree(source, target)
    return target


def fingerprint(folder: Path) -> list[tuple[str, int, int]]:
    """Every file under `folder` with its size and modification time: what a write would change."""
    found = []
    for parent, _, files in os.walk(folder):
        for name in files:
            stat = (Path(parent) / name).stat()
            found.append((str((Path(parent) / name).relative_to(folder)), stat.st_size, stat.st_mtime_ns))
    return sorted(found)


def changes(before: list[tuple[str, int, int]], after: list[tuple[str, int, int]]) -> list[str]:
    """Files added, removed or rewritten between two fingerprints."""
    old, new = {f[0]: f[1:] for f in before}, {f[0]: f[1:] for f in after}
    return sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))
