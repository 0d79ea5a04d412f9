"""`agentwatch serve` for real: it starts its own Prefect server on 127.0.0.1, registers both flows with
their schedules, the guard run takes a file that appears after it started within a minute and pages a
real webhook receiver about the restricted action in it within a minute of the file appearing, and
SIGTERM stops the serving process and then the server.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.detectors.escalate.escalation_support import http_receiver
from tests.flows.flow_support import force_push_file, sessions_in

pytestmark = pytest.mark.slow
AGENTWATCH = str(Path(sys.executable).parent / "agentwatch")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(port: int, path: str, body: dict | None = None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/{path}", data=json.dumps(body or {}).encode(),
                                     headers={"content-type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if result := check():
                return result
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def completed_guard_runs(port: int) -> list[dict]:
    runs = api(port, "flow_runs/filter", {"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}})
    return [r for r in runs if r["name"].startswith("guard ")]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_serve_schedules_both_flows_and_the_guard_escalates_a_late_file_within_a_minute(tmp_path: Path) -> None:
    lake, logs, port = tmp_path / "lake", tmp_path / "logs", free_port()
    logs.mkdir()
    with http_receiver() as receiver:
        playbooks = tmp_path / "playbooks.yml"
        playbooks.write_text("playbooks:\n  - id: page-on-call\n    match: {levels: [high, critical]}\n"
                             f"    actions:\n      - webhook: {{url: '{receiver.url}', format: json}}\n")
        env = {**os.environ, "AGENTWATCH_LAKE": str(lake), "AGENTWATCH_SOURCES": str(logs),
               "AGENTWATCH_PREFECT_PORT": str(port), "AGENTWATCH_SCHEDULE_TIMEZONE": "Europe/Berlin",
               "AGENTWATCH_PLAYBOOKS": str(playbooks), "AGENTWATCH_GUARD_INTERVAL": "10"}
        env.pop("PREFECT_API_URL", None)
        with open(tmp_path / "serve.log", "wb") as log:
            serving = subprocess.Popen([AGENTWATCH, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deployments = wait_for(lambda: len(d := api(port, "deployments/filter")) == 2 and d, 240, "deployments")
            schedules = {d["name"]: d["schedules"][0]["schedule"] for d in deployments}
            assert (schedules["nightly"]["cron"], schedules["nightly"]["timezone"]) == ("0 2 * * *", "Europe/Berlin")
            assert schedules["guard"]["interval"] == 10  # the shortest allowed: headroom on 2 busy cores
            assert (lake / "_prefect" / "server.log").exists()
            wait_for(lambda: completed_guard_runs(port), 150, "a first guard run")
            assert not receiver.posts

            force_push_file(logs / "late.jsonl", "late-session")
            appeared = time.monotonic()
            wait_for(lambda: receiver.posts, 60, "the guard's page about the late file's force push")
            paged_after = time.monotonic() - appeared
            assert "late-session" in sessions_in(lake)
        finally:
            serving.send_signal(signal.SIGTERM)
            serving.wait(60)
    assert paged_after < 60
    [page] = receiver.bodies()
    assert page["alert"]["session_id"] == "late-session" and page["alert"]["agent_id"] == "cicd-assistant"
    assert "force-push-protected-branch" in page["alert"]["rule_ids"]
    assert serving.returncode == 0, (tmp_path / "serve.log").read_text()[-3000:]
    wait_for(lambda: not port_open(port), 30, "the Prefect server to stop")
