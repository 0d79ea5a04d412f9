"""`agentwatch run` (the nightly pipeline once) and `agentwatch serve` (both flows on their schedules)."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from agentwatch.cli.context import Context
    from agentwatch.flows.pipeline import RunSummary


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--prefect/--no-prefect", "use_prefect", default=False, show_default=True,
              help="Run as a Prefect flow (a temporary local server: 10-20 s more) instead of the same "
                   "pipeline called directly.")
@click.pass_obj
def run(obj: Context, paths: tuple[Path, ...], use_prefect: bool) -> None:
    """The nightly pipeline once: PATHs, or the configured sources and the spool; no server needed."""
    from agentwatch.flows.context import absolute_settings, build_context
    from agentwatch.flows.pipeline import DirectRunner, StepFailed, run_pipeline
    from agentwatch.flows.report import render_text

    settings = absolute_settings(obj.settings)
    if not settings["inventory"]:
        click.echo("no inventory given (--inventory): the run uses the one remembered in the lake, if any", err=True)
    try:
        if use_prefect:
            summary = _run_with_prefect(settings, paths)
        else:
            summary = run_pipeline(build_context(settings, paths), DirectRunner(echo=_step_started))
    except StepFailed as exc:
        click.echo(render_text(exc.summary))
        raise SystemExit(_fail(exc)) from None
    click.echo(render_text(summary))
    _warn_unknown_agents(summary)


@click.command()
@click.pass_obj
def serve(obj: Context) -> None:
    """Serve the nightly flow (cron) and the guard flow (interval) through Prefect's scheduling."""
    from agentwatch.flows.context import absolute_settings
    from agentwatch.flows.server import prefect_api, prefect_env, prefect_home

    settings = absolute_settings(obj.settings)
    home = prefect_home(settings)
    home.mkdir(parents=True, exist_ok=True)
    os.environ.update(prefect_env(home))  # before Prefect is first imported: it reads them then
    from agentwatch.flows.deploy import guard_schedule, nightly_schedule, serve_flows

    nightly, guard = nightly_schedule(settings), guard_schedule(settings)  # bad schedules fail before the server
    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM stops like Ctrl-C: serving first, then the server
    with prefect_api(home, int(settings["prefect_port"])) as url:
        os.environ["PREFECT_API_URL"] = url  # the flow-run processes the runner starts inherit it
        click.echo(f"serving agentwatch-nightly ({nightly.cron}, {nightly.timezone}) and agentwatch-guard "
                   f"(every {guard.interval.total_seconds():g} s) against {url}; Ctrl-C stops", err=True)
        with contextlib.suppress(KeyboardInterrupt):
            serve_flows(settings, url)
    click.echo("stopped", err=True)


def _run_with_prefect(settings: dict, paths: tuple[Path, ...]):
    from agentwatch.flows.server import prefect_env, prefect_home

    home = prefect_home(settings)
    home.mkdir(parents=True, exist_ok=True)  # Prefect's temporary server cannot start without it
    for name, value in prefect_env(home).items():
        os.environ.setdefault(name, value)  # an explicit PREFECT_HOME or API URL of the user's wins
    from agentwatch.flows.nightly import nightly_flow

    return nightly_flow(settings=settings, paths=[str(p) for p in paths])


def _warn_unknown_agents(summary: RunSummary) -> None:
    """Agents in the events the inventory does not declare: say so on stderr."""
    from agentwatch.cli.lake import warn_unknown_agents
    from agentwatch.detectors.metrics.run import MetricsRun

    for step in summary.steps:
        if isinstance(step.summary, MetricsRun):
            warn_unknown_agents(step.summary.unknown_agents)


def _step_started(label: str) -> None:
    from agentwatch.inert import inert_text

    click.echo(f"... {inert_text(label)}", err=True)


def _fail(exc: Exception) -> int:
    from agentwatch.inert import inert_text

    click.echo(f"agentwatch: error: {inert_text(str(exc))}", err=True)
    return 1


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
