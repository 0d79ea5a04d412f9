"""The Prefect API `serve` talks to: PREFECT_API_URL when set, else a local `prefect server start`
bound to 127.0.0.1 with its home under the lake (or the `prefect_home` setting), stopped on exit.

Nothing here imports Prefect: its settings are read from the environment when it is first imported,
so the environment is prepared before that happens.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agentwatch.errors import ConfigError
from agentwatch.lake import PREFECT_DIR, local_folder

HOST = "127.0.0.1"
START_TIMEOUT = 180.0  # seconds: 12 s to healthy on a fresh home here, far more when the cores are shared
STOP_TIMEOUT = 20.0


def prefect_home(settings: Mapping[str, Any]) -> Path:
    """PREFECT_HOME for this lake: the `prefect_home` setting, else <lake>/_prefect."""
    return Path(settings.get("prefect_home") or local_folder(settings["lake"]) / PREFECT_DIR).resolve()


def prefect_env(home: Path) -> dict[str, str]:
    """Environment that keeps Prefect's state in `home`, its analytics off and its start-up patient."""
    return {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": str(int(START_TIMEOUT)),
    }


@contextmanager
def prefect_api(home: Path, port: int) -> Iterator[str]:
    """The API URL to use; starts (and at the end stops) a local server when PREFECT_API_URL is unset."""
    if os.environ.get("PREFECT_API_URL"):
        yield os.environ["PREFECT_API_URL"]
        return
    _check_port_free(port)
    home.mkdir(parents=True, exist_ok=True)
    with open(home / "server.log", "ab") as log:
        # own session: a Ctrl-C in the terminal reaches the serving process first, which must stop
        # before the server (a runner whose server went away first hangs)
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", HOST, "--port", str(port)],
            env={**os.environ, **prefect_env(home)}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            _wait_healthy(server, f"http://{HOST}:{port}/api/health", home / "server.log")
            yield f"http://{HOST}:{port}/api"
        finally:
            _stop(server)


def _check_port_free(port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise ConfigError(f"port {port} on {HOST} is in use ({exc.strerror}); set prefect_port or "
                              "PREFECT_API_URL", "prefect_port") from exc


def _wait_healthy(server: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise ConfigError(f"the Prefect server exited with code {server.returncode} (see its log)", str(log))
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own 127.0.0.1 URL
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise ConfigError(f"the Prefect server was not healthy after {START_TIMEOUT:g} s (see its log)", str(log))


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)  # its own process group: uvicorn and any services it forked
    try:
        server.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
