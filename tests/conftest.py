"""Shared fixtures: every test gets its own lake and keeps tools' state out of the home folder; the
sample fleet is built once per session by the real stages and shared read-only (copy it to write)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import sample_lake


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PREFECT_HOME", str(home / ".prefect"))
    monkeypatch.setenv("AGENTWATCH_REDACTION_KEY", "test-key")
    for name in ("AGENTWATCH_LAKE", "AGENTWATCH_INVENTORY", "AGENTWATCH_CONFIG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    return tmp_path / "lake"


@pytest.fixture
def aw(capsys: pytest.CaptureFixture[str]):
    """Run the CLI as the `agentwatch` script does: a function of the arguments giving (exit code, stdout, stderr)."""
    from agentwatch.cli import run_cli

    def run(*args: str) -> tuple[int, str, str]:
        code = run_cli(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def shared_lake(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], Path],
                source: Path | None = None) -> Iterator[Path]:
    """A lake built once (from a copy of `source`, if given) in the test environment, yielded to every
    test that reads it; at the end of the session, an error if any test wrote to it."""
    target = factory.mktemp(name) / "lake"
    with sample_lake.isolated_environment(factory.mktemp(f"{name}-home")):
        built = build(sample_lake.copy_lake(source, target) if source else target)
    before = sample_lake.fingerprint(built)
    yield built
    changed = sample_lake.changes(before, sample_lake.fingerprint(built))
    assert not changed, f"a test wrote to the shared {name} lake (copy it with copy_lake to write): {changed}"


@pytest.fixture(scope="session")
def sample_events(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The sample fleet ingested (events and quarantine only). Read only."""
    yield from shared_lake(tmp_path_factory, "sample-events", sample_lake.ingest_sample)


@pytest.fixture(scope="session")
def sample_measured(tmp_path_factory: pytest.TempPathFactory, sample_events: Path) -> Iterator[Path]:
    """The sample fleet ingested and measured (`steps`, `sessions`). Read only."""
    yield from shared_lake(tmp_path_factory, "sample-measured", sample_lake.measure, sample_events)


@pytest.fixture(scope="session")
def sample_detected(tmp_path_factory: pytest.TempPathFactory, sample_measured: Path) -> Iterator[Path]:
    """The sample fleet ingested, measured and detected with the built-in rules. Read only."""
    yield from shared_lake(tmp_path_factory, "sample-detected", sample_lake.detect, sample_measured)


@pytest.fixture(scope="session")
def sample_app_lake(tmp_path_factory: pytest.TempPathFactory, sample_measured: Path) -> Iterator[Path]:
    """The sample fleet measured, plus the detector, risk and escalation tables the app shows, written in
    their contract shapes by tests/app/app_lake.py. Read only."""
    from tests.app.app_lake import add_detections

    def build(lake: Path) -> Path:
        add_detections(lake)
        return lake

    yield from shared_lake(tmp_path_factory, "sample-app", build, sample_measured)
