"""`agentwatch app`: the analysts' Streamlit app, bound to 127.0.0.1, headless, no usage statistics."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from agentwatch.cli.context import Context



def app_file() -> Path:
    """The app's entry script: `app/` of the repository, installed as the package `agentwatch.app`."""
    spec = importlib.util.find_spec("agentwatch.app")
    return Path(next(iter(spec.submodule_search_locations))) / "streamlit_app.py"


def streamlit_command(port: int, host: str = "127.0.0.1") -> list[str]:
    """The command line that serves the app (flags, so no config file elsewhere can loosen them)."""
    return [
        sys.executable, "-m", "streamlit", "run", str(app_file()),
        "--server.address", host, "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", "--server.runOnSave", "false",
        "--global.developmentMode", "false", "--client.toolbarMode", "viewer", "--server.enableXsrfProtection",
        "true", "--client.showErrorDetails", "type",
    ]


@click.command()
@click.option("--port", default=8501, show_default=True, help="Port on 127.0.0.1.")
@click.pass_obj
def app(obj: Context, port: int) -> None:
    """The analysts' app (Streamlit) over the lake, on http://127.0.0.1:PORT (Ctrl-C stops)."""
    from agentwatch.inert import inert_text
    from agentwatch.lake import Lake

    if not Lake(obj.lake).exists():  # the app starts anyway, and its pages say what to run first
        click.echo(f"no lake at {inert_text(str(obj.lake))} yet: run `agentwatch ingest` or `agentwatch run`", err=True)
    env = {**os.environ, "AGENTWATCH_LAKE": str(obj.lake.resolve() if isinstance(obj.lake, Path) else obj.lake)}
    if obj.inventory:
        env["AGENTWATCH_INVENTORY"] = str(obj.inventory.resolve())
    env.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    click.echo(f"agentwatch app on http://127.0.0.1:{port} over the lake {inert_text(str(obj.lake))} (Ctrl-C stops)")
    command = streamlit_command(port)
    os.execve(command[0], command, env)  # the server becomes this process: signals reach it, no orphan
