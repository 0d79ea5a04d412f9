"""The lake at the command line: `verify`, and the one way commands load the inventory."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import click

from agentwatch.inert import inert_text

if TYPE_CHECKING:
    from agentwatch.cli.context import Context
    from agentwatch.inventory import Agent

# verify's exit statuses (README "Exit codes"): 2 is every command's "bad input" (no lake, ...)
VERIFY_OK, VERIFY_TAMPERED, VERIFY_LEFTOVERS = 0, 1, 3


@click.command()
@click.option("--head", "expect_head", help="The manifest head hash you recorded elsewhere; fail if it differs.")
@click.pass_obj
def verify(obj: Context, expect_head: str | None) -> None:
    """Re-hash every lake file against the manifest's hash chain; account for every other file."""
    from agentwatch.lake import Lake, verify_lake

    result = verify_lake(Lake(obj.lake).require(), expect_head)
    for label, found in (("TAMPERED", result.problems), ("UNCOMMITTED", result.leftovers),
                         ("UNOWNED", result.unowned)):
        for line in found:
            click.echo(f"{label} {inert_text(line)}", err=True)
    counts = (f"{result.entries} manifest entries, {result.files} files, {len(result.problems)} problems, "
              f"{len(result.leftovers)} uncommitted leftovers, {len(result.unowned)} unowned files; head {result.head}")
    if result.problems:
        click.echo(f"verify FAILED: {counts}")
        raise SystemExit(VERIFY_TAMPERED)
    if result.leftovers or result.unowned:
        click.echo(f"verify ok, but files outside the committed lake need a look: {counts}")
        raise SystemExit(VERIFY_LEFTOVERS)
    click.echo(f"verify ok: {counts}")


def command_inventory(obj: Context) -> dict[str, Agent]:
    """The inventory of a command that measures: `--inventory` (remembered in the lake when it
    differs from the last snapshot), else the lake's last snapshot; says on stderr when there is none."""
    from agentwatch.lake import Lake, use_inventory

    agents = use_inventory(Lake(obj.lake), obj.inventory)
    if not agents:
        click.echo("no inventory given (--inventory) and none remembered in the lake: declared scope and "
                   "approval rules are not checked", err=True)
    elif obj.inventory is None:
        click.echo(f"using the inventory remembered in the lake ({len(agents)} agents; --inventory replaces it)",
                   err=True)
    return agents


def warn_unknown_agents(agent_ids: Iterable[str]) -> None:
    """Say which agents seen in events the inventory does not declare (their scope is not checked)."""
    agent_ids = list(agent_ids)
    if agent_ids:
        names = ", ".join(inert_text(a) for a in agent_ids[:10]) + (", ..." if len(agent_ids) > 10 else "")
        click.echo(f"agentwatch: warning: {len(agent_ids)} agents in the events are not in the inventory ({names}): "
                   f"their scope and approvals are not checked (column in_inventory of agents and sessions)",
                   err=True)
