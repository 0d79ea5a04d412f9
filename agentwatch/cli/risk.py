"""`agentwatch risk`: the six dimensions per agent, both matrices, declared vs observed, what-if controls."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from agentwatch.cli.context import Context


@click.command()
@click.option("--agent", "agent_ids", multiple=True, help="Only this agent (repeatable).")
@click.option("--what-if", "what_if", multiple=True,
              help="Apply a control (segmentation, verification, telemetry, guardrails, escalation; repeatable "
                   "or comma-separated) and show the new quadrants.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--update/--no-update", default=None,
              help="Measure again first (default: when metrics or findings changed since the last risk run).")
@click.pass_obj
def risk(obj: Context, agent_ids: tuple[str, ...], what_if: tuple[str, ...], fmt: str, update: bool | None) -> None:
    """Each agent's risk dimensions and quadrants, measured vs declared (tables agent_risk, risk_findings,
    risk_alerts; measured again when stale), with what-if controls."""
    from agentwatch.cli.lake import command_inventory
    from agentwatch.detectors.risk.model import load_controls
    from agentwatch.detectors.risk.report import TABLE_COLUMNS, agent_report, latest_rows, table_rows
    from agentwatch.detectors.risk.run import risk_is_current, run_risk
    from agentwatch.errors import ConfigError
    from agentwatch.lake import Lake
    from agentwatch.render import render

    settings = obj.settings
    controls = load_controls(settings["risk_controls"] or None)
    chosen = [name.strip() for value in what_if for name in value.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in controls]
    if unknown:
        raise ConfigError(f"unknown control {', '.join(map(repr, unknown))}; known: {', '.join(controls)}",
                          "--what-if")
    high, lake = float(settings["risk_high"]), Lake(obj.lake).require()
    note = "agent_risk as last measured (--update measures again)"
    if update or (update is None and not risk_is_current(lake)):
        run = run_risk(lake, inventory=command_inventory(obj), now=datetime.now(UTC), high=high,
                       gap=int(settings["risk_gap"]), controls=controls,
                       memory_limit=settings["memory_limit"])
        note = (f"{run.agent_days} agent-days measured ({len(run.undeclared_agents)} agents undeclared); "
                f"{run.findings} declared-vs-observed findings, {run.alerts} quadrant alerts")
    rows = latest_rows(lake.connect(), agent_ids)
    missing = sorted(set(agent_ids) - {r["agent_id"] for r in rows})
    if missing:
        raise ConfigError(f"no sessions of agent {', '.join(map(repr, missing))} in the lake", "--agent")
    reports = [agent_report(r, controls, chosen, high) for r in rows]
    if fmt == "json":  # ASCII-only JSON: ids are attacker-controlled, no control character reaches a terminal
        click.echo(json.dumps({"agents": reports}, default=str, indent=2))
        return
    click.echo(render(list(TABLE_COLUMNS), [tuple(r) for r in table_rows(reports)], "table", 40), nl=False)
    if chosen:
        click.echo(f"what-if rows: measured (and, in the declared columns, declared) scores with "
                   f"{', '.join(dict.fromkeys(chosen))} applied; controls already in place are not applied twice")
    click.echo(note)
