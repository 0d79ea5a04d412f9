"""Two runs of one lake never interleave: the second waits (bounded), then refuses with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agentwatch.flows.context import build_context
from agentwatch.flows.pipeline import DirectRunner, run_pipeline
from agentwatch.flows.runlock import RunBusy, run_lock
from agentwatch.lake import verify_lake
from tests.flows.flow_support import SAMPLE, flow_settings, lake_state, session_file, sessions_in


def hold_lock(lake: Path, seconds: float) -> threading.Thread:
    held = threading.Event()

    def hold() -> None:
        with run_lock(lake, timeout=0):
            held.set()
            time.sleep(seconds)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(5)
    return thread


def test_a_second_run_waits_for_the_first(lake: Path, tmp_path: Path) -> None:
    session_file(tmp_path / "logs" / "a.jsonl", "a")
    settings = flow_settings(lake, sources=[str(tmp_path / "logs")])
    holder = hold_lock(lake, 1.5)
    summary = run_pipeline(build_context(settings), DirectRunner())
    holder.join()
    assert summary.waited_for_lock >= 1.0
    assert sessions_in(lake) == {"a"}


def test_a_run_that_waited_too_long_refuses_clearly(lake: Path) -> None:
    holder = hold_lock(lake, 2.0)
    try:
        with pytest.raises(RunBusy, match=r"another agentwatch run has held this lake for over 0.5 s .*lock_timeout"):
            run_pipeline(build_context(flow_settings(lake, run_lock_timeout=0.5)), DirectRunner())
    finally:
        holder.join()


def test_two_runs_at_once_leave_the_lake_as_one_run_would(lake: Path, tmp_path: Path) -> None:
    agentwatch = [str(Path(sys.executable).parent / "agentwatch")]
    native = SAMPLE / "native" / "cicd-assistant"
    args = [*agentwatch, "--lake", str(lake), "--inventory", str(SAMPLE / "agents.yaml"), "run", str(native)]
    env = {**os.environ, "AGENTWATCH_RUN_LOCK_TIMEOUT": "120"}
    runs = [subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [r.communicate(timeout=180) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outputs
    together = lake_state(lake)
    alone = tmp_path / "alone"
    subprocess.run([*args[:2], str(alone), *args[3:]], env=env, check=True, capture_output=True, timeout=180)
    assert lake_state(lake)[1] == lake_state(alone)[1]
    assert together[0] == lake_state(alone)[0]  # the second run added no manifest entry
    assert verify_lake(lake).problems == ()
