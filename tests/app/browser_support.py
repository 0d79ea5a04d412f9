"""The real thing for browser tests: `agentwatch app` served on a free 127.0.0.1 port, and Debian's
Chromium driven by Playwright (its own browser download is never used)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-background-networking", "--disable-component-update",
    "--disable-default-apps", "--disable-sync", "--no-first-run", "--disable-features=Translate,MediaRouter",
    "--disable-domain-reliability", "--metrics-recording-only", "--no-default-browser-check",
]


def free_port() -> int:
    """A port nothing listens on right now (127.0.0.1)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served_app(lake: Path, inventory: Path, home: Path, timeout: float = 120.0) -> Iterator[str]:
    """`agentwatch app` over the lake on a free port; yields its URL and stops it (and its children) after."""
    port = free_port()
    env = {**os.environ, "HOME": str(home), "AGENTWATCH_REDACTION_KEY": "test-key"}
    cmd = [str(Path(sys.executable).with_name("agentwatch")), "--lake", str(lake), "--inventory", str(inventory),
           "app", "--port", str(port)]
    log = (home / "app.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, cwd=home, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, timeout, home / "app.log")
        yield url
    finally:
        _stop(proc)
        log.close()


def _stop(proc: subprocess.Popen) -> None:
    """Stop the app's process group (the CLI and the Streamlit server it started)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited ({proc.returncode}): {log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the app did not become healthy in {timeout} s: {log.read_text(errors='replace')[-2000:]}")


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless (Playwright gives it a throwaway profile), no background networking."""
    executable = shutil.which("chromium")
    if executable is None:
        raise RuntimeError("Debian's chromium is not installed: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


SETTLED = "[data-testid='stApp'][data-test-script-state='notRunning'][data-test-connection-state='CONNECTED']"


def settle(page: Page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has run the script to its end and the charts have drawn."""
    page.wait_for_timeout(200)
    page.wait_for_selector(SETTLED, timeout=timeout)
    page.wait_for_timeout(500)  # vega draws after the run message; a second look confirms nothing reran
    page.wait_for_selector(SETTLED, timeout=timeout)
