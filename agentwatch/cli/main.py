"""The `agentwatch` command group, its own commands (metrics, sample) and the entry point that turns
every mistake into one line and exit 2."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

from agentwatch.cli.app import app
from agentwatch.cli.context import Context
from agentwatch.cli.control import approve, escalate, gate, keygen, resume
from agentwatch.cli.detect import ack, alerts, close, detect, eval_command, rules
from agentwatch.cli.flows import run, serve
from agentwatch.cli.ingest import ingest, receive
from agentwatch.cli.lake import verify
from agentwatch.cli.option_types import DAY, POSITIVE, SCALE, usage_what, usage_where
from agentwatch.cli.risk import risk
from agentwatch.cli.show import show
from agentwatch.cli.sql import sql
from agentwatch.config import load_settings
from agentwatch.errors import AgentwatchError
from agentwatch.inert import inert_text


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--lake", type=click.Path(file_okay=False), help="Lake folder [env AGENTWATCH_LAKE; ./data/lake].")
@click.option("--inventory", type=click.Path(dir_okay=False), help="Agent inventory YAML [env AGENTWATCH_INVENTORY].")
@click.option("--config", type=click.Path(dir_okay=False), help="Config file [env AGENTWATCH_CONFIG; agentwatch.toml].")
@click.pass_context
def cli(ctx: click.Context, lake: str | None, inventory: str | None, config: str | None) -> None:
    """Insider-threat analytics for autonomous AI agents."""
    ctx.obj = Context(load_settings(config, {"lake": lake, "inventory": inventory}))


@cli.command()
@click.option("--baseline-days", type=POSITIVE, default=7, show_default=True,
              help="Days of an agent's history that count as normal.")
@click.pass_obj
def metrics(obj: Context, baseline_days: int) -> None:
    """Compute session metrics (steps, sessions) for everything ingested since the last run."""
    from agentwatch.cli.lake import command_inventory, warn_unknown_agents
    from agentwatch.detectors.metrics.run import run_metrics
    from agentwatch.lake import Lake

    Lake(obj.lake).require()
    run = run_metrics(obj.lake, command_inventory(obj), baseline_days=baseline_days,
                      memory_limit=obj.settings["memory_limit"])
    warn_unknown_agents(run.unknown_agents)
    if run.mode == "up_to_date":
        click.echo("metrics up to date: no batch ingested since the last run")
        return
    click.echo(f"metrics {run.mode}: {run.sessions_rebuilt:,} sessions rebuilt; lake now holds "
               f"{run.count_sessions:,} sessions, {run.count_steps:,} steps")


@cli.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder.")
@click.option("--days", type=POSITIVE, default=14, show_default=True, help="Days of traffic.")
@click.option("--seed", default=7, show_default=True, help="Random seed: same seed, byte-identical output.")
@click.option("--scale", type=SCALE, default=1.0, show_default=True,
              help="Multiplies sessions per day (benchmarks: 100+).")
@click.option("--start", type=DAY, default="2026-11-09", show_default=True, help="First day (UTC).")
@click.option("--otlp-agent", default="mail-assistant", show_default=True,
              help="Write this agent's sessions as OTLP/JSON traces instead of native JSONL ('' for none).")
def sample(out: Path, days: int, seed: int, scale: float, start: str, otlp_agent: str | None) -> None:
    """Generate the sample fleet: inventory, labelled sessions with scripted incidents."""
    from agentwatch.sample.generate import write_sample

    summary = write_sample(out, days=days, seed=seed, scale=scale, start=start, otlp_agent=otlp_agent or None)
    click.echo(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())


def main() -> None:
    """Entry point: the exit code of `run_cli` over the process's arguments."""
    sys.exit(run_cli(sys.argv[1:]))


def run_cli(argv: list[str]) -> int:
    """Run one command; a mistake prints `agentwatch: error: <what> in <where>` and gives 2, never a traceback."""
    try:
        result = cli.main(args=argv, prog_name="agentwatch", standalone_mode=False)
    except AgentwatchError as exc:
        return _error(str(exc))
    except click.UsageError as exc:
        return _error(f"{usage_what(exc)} in {usage_where(exc)}")
    except click.ClickException as exc:
        return _error(exc.format_message(), exc.exit_code)
    except click.Abort:
        click.echo("aborted", err=True)
        return 1
    except SystemExit as exc:  # a command's own exit code (ingest: a file failed; verify: tampered)
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    return result if isinstance(result, int) else 0


def _error(message: str, code: int = 2) -> int:
    click.echo(f"agentwatch: error: {inert_text(message)}", err=True)
    return code


cli.add_command(ingest)
cli.add_command(receive)
cli.add_command(sql)
cli.add_command(show)
cli.add_command(verify)
cli.add_command(risk)
cli.add_command(keygen)
cli.add_command(approve)
cli.add_command(gate)
cli.add_command(resume)
cli.add_command(escalate)
cli.add_command(detect)
cli.add_command(alerts)
cli.add_command(ack)
cli.add_command(close)
cli.add_command(rules)
cli.add_command(eval_command)
cli.add_command(run)
cli.add_command(serve)
cli.add_command(app)
