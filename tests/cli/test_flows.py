"""`agentwatch run` as a user's cron calls it, and the schedules `agentwatch serve` declares."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentwatch.cli import cli
from agentwatch.errors import ConfigError
from tests.flows.flow_support import corrupt_gz, flow_settings, session_file, sessions_in

AGENTWATCH = str(Path(sys.executable).parent / "agentwatch")


def invoke(lake: Path, *args: str, env: dict | None = None):
    return CliRunner().invoke(cli, ["--lake", str(lake), *args], env=env)


def test_run_with_paths_ingests_them_and_builds_metrics(lake: Path, tmp_path: Path) -> None:
    session_file(tmp_path / "logs" / "a.jsonl", "a")
    corrupt_gz(tmp_path / "logs" / "b.jsonl.gz")
    result = invoke(lake, "run", str(tmp_path / "logs"))
    assert result.exit_code == 0, result.output
    assert "events written" in result.output and "failed file" in result.output
    assert sessions_in(lake) == {"a"}


def test_run_without_paths_takes_the_configured_sources(lake: Path, tmp_path: Path) -> None:
    session_file(tmp_path / "logs" / "a.jsonl", "a")
    config = tmp_path / "agentwatch.toml"
    config.write_text(f'sources = ["{tmp_path / "logs"}"]\n')
    result = CliRunner().invoke(cli, ["--config", str(config), "--lake", str(lake), "run"])
    assert result.exit_code == 0, result.output
    assert sessions_in(lake) == {"a"}


def test_mistakes_exit_2_and_say_where(lake: Path, tmp_path: Path) -> None:
    done = subprocess.run([AGENTWATCH, "--lake", str(lake), "run", str(tmp_path / "missing")],
                          capture_output=True, text=True, env={**os.environ, "AGENTWATCH_SOURCES": ""})
    assert done.returncode == 2
    assert done.stderr.strip().endswith(f"agentwatch: error: no such file or folder in {tmp_path / 'missing'}")
    assert "Traceback" not in done.stderr


def test_a_failed_step_exits_1_with_the_summary(lake: Path, tmp_path: Path) -> None:
    session_file(tmp_path / "a.jsonl", "a")
    (lake / "_manifest").mkdir(parents=True)
    (lake / "_manifest" / "00000001.json").write_text("{broken")
    done = subprocess.run([AGENTWATCH, "--lake", str(lake), "run", str(tmp_path / "a.jsonl")],
                          capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    assert "FAILED at ingest 1/1" in done.stdout
    assert "agentwatch: error: nightly run failed at step 'ingest 1/1: a.jsonl'" in done.stderr
    assert "Traceback" not in done.stderr


def test_schedules_nightly_cron_in_local_time_and_guard_interval(lake: Path) -> None:
    from agentwatch.flows.deploy import build_deployments

    nightly, guard = build_deployments(flow_settings(lake, schedule_timezone="Europe/Paris"))
    [cron] = nightly.schedules
    [interval] = guard.schedules
    assert (nightly.name, cron.schedule.cron, cron.schedule.timezone) == ("nightly", "0 2 * * *", "Europe/Paris")
    assert (guard.name, interval.schedule.interval.total_seconds()) == ("guard", 30)
    assert nightly.entrypoint == "agentwatch.flows.nightly.nightly_flow"
    assert guard.entrypoint == "agentwatch.flows.guard.guard_flow"
    assert nightly.parameters["settings"]["lake"] == str(lake)
    assert guard.concurrency_limit == 1 and guard.concurrency_options.collision_strategy == "CANCEL_NEW"


def test_the_nightly_cron_defaults_to_the_local_zone(lake: Path) -> None:
    import tzlocal

    from agentwatch.flows.deploy import nightly_schedule

    assert nightly_schedule(flow_settings(lake)).timezone == tzlocal.get_localzone_name()


@pytest.mark.parametrize(("setting", "value", "message"), [
    ("nightly_cron", "61 2 * * *", "invalid cron"),
    ("schedule_timezone", "Mars/Olympus", "unknown time zone"),
    ("guard_interval", 3, "`guard_interval` must be a whole number of seconds >= 10"),
])
def test_bad_schedules_are_named(lake: Path, setting: str, value, message: str) -> None:
    from agentwatch.flows.deploy import build_deployments

    with pytest.raises(ConfigError, match=f"{message}.* in {setting}"):
        build_deployments(flow_settings(lake, **{setting: value}))
