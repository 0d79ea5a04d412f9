"""Shared fixtures: every test gets its own lake and keeps tools' state out of the home folder."""

from __future__ import annotations

from pathlib import Path

import pytest


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
