"""CLI of the detectors: `detect`, `alerts`, `ack`, `close`, `rules list|test`, `eval`."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from agentwatch.config import path_list

if TYPE_CHECKING:
    from agentwatch.cli.context import Context


def rules_dirs_of(obj: Context) -> list[str]:
    """The user's rule folders from the `rules_dirs` setting (a list, or text separated by ':')."""
    return path_list(obj.settings.get("rules_dirs"))


@click.command()
@click.option("--show", default=20, show_default=True, help="Print this many flagged sessions with their reasons.")
@click.pass_obj
def detect(obj: Context, show: int) -> None:
    """Run the rules and anomaly models; write scores, findings and alerts."""
    from agentwatch.detectors.detect.run import run_detect

    run = run_detect(obj.lake, rules_dirs=rules_dirs_of(obj), now=datetime.now(UTC),
                     memory_limit=obj.settings["memory_limit"])
    click.echo(f"detect: {run.count_rules} rules over {run.count_sessions:,} sessions: {run.count_findings:,} "
               f"findings, {run.count_flagged:,} sessions flagged, {run.count_alerts:,} alerts "
               f"({run.count_new_alerts:,} new), {run.count_suppressed} patterns suppressed by feedback")
    if show > 0:
        print_flagged(obj, show)


def print_flagged(obj: Context, limit: int) -> None:
    """The most risky flagged sessions, each with its reasons and evidence event ids."""
    from agentwatch.inert import inert_text

    con = _connect(obj)
    rows = con.sql("select agent_id, session_id, risk_score, reasons from sessions where flagged "
                   "order by risk_score desc, agent_id, session_id limit ?", params=[limit]).fetchall()
    for agent_id, session_id, risk, reasons in rows:
        click.echo(f"\n{risk:.2f}  {inert_text(agent_id)}  {inert_text(session_id)}")
        for r in reasons:
            evidence = ", ".join(r["evidence_event_ids"][:3]) + ("…" if len(r["evidence_event_ids"]) > 3 else "")
            click.echo(f"  [{r['level']}] {inert_text(r['id'])}: {inert_text(r['text'][:160])}")
            if evidence:
                click.echo(f"      evidence: {inert_text(evidence)}")


@click.command()
@click.option("--status", type=click.Choice(["new", "acknowledged", "closed"]), help="Only alerts in this state.")
@click.option("--agent", help="Only this agent's alerts.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.pass_obj
def alerts(obj: Context, status: str | None, agent: str | None, fmt: str) -> None:
    """List alerts with their latest state."""
    from agentwatch.render import render

    con = _connect(obj)
    if "alerts" not in _views(con):
        click.echo("no alerts yet (run `agentwatch detect`)")
        return
    cursor = con.execute(
        "select alert_key, level, status, round(risk_score, 3) as risk, agent_id, session_id, title, status_by "
        "from alerts where (? is null or status = ?) and (? is null or agent_id = ?) "
        "order by risk_score desc, alert_key", [status, status, agent, agent])
    columns = [d[0] for d in cursor.description]
    click.echo(render(columns, cursor.fetchall(), fmt, 60), nl=False)


@click.command()
@click.argument("alert_key")
@click.option("--by", "by", required=True, help="Who acknowledges.")
@click.option("--note", default="", help="Why.")
@click.pass_obj
def ack(obj: Context, alert_key: str, by: str, note: str) -> None:
    """Acknowledge an alert (someone is looking at it)."""
    key = record_state(obj, alert_key, "acknowledged", by, note, None)
    click.echo(f"alert {key} acknowledged by {by}")


@click.command()
@click.argument("alert_key")
@click.option("--by", "by", required=True, help="Who closes.")
@click.option("--note", default="", help="Why (for a false positive: what makes it normal).")
@click.option("--reason", type=click.Choice(["false_positive", "resolved"]), default="resolved", show_default=True,
              help="false_positive suppresses this alert's exact pattern for its agent from the next detect on, "
                   "and its session becomes a labelled normal example of the agent's anomaly model.")
@click.pass_obj
def close(obj: Context, alert_key: str, by: str, note: str, reason: str) -> None:
    """Close an alert, as resolved or as a false positive."""
    key = record_state(obj, alert_key, "closed", by, note, reason)
    click.echo(f"alert {key} closed ({reason}) by {by}")


def record_state(obj: Context, alert_key: str, status: str, by: str, note: str, reason: str | None) -> str:
    """Append one row to `alert_state` for the alert whose key starts with alert_key."""
    import pyarrow as pa

    from agentwatch.detectors.detect.run import ALERT_STATE_SCHEMA
    from agentwatch.errors import ConfigError
    from agentwatch.lake import Lake

    con = _connect(obj)
    if "alerts" not in _views(con):
        raise ConfigError("no alerts yet (run `agentwatch detect`)", str(obj.lake))
    found = con.execute("select alert_key, agent_id, rule_ids from alerts where starts_with(alert_key, ?)",
                        [alert_key]).fetchall()
    if len(found) != 1:
        raise ConfigError(f"{'no' if not found else 'more than one'} alert with key {alert_key!r}", str(obj.lake))
    key, agent_id, rule_ids = found[0]
    row = {"alert_key": key, "status": status, "by": by, "note": note, "close_reason": reason,
           "at": datetime.now(UTC), "agent_id": agent_id, "rule_ids": list(rule_ids or [])}
    with Lake(obj.lake).writer() as writer:
        writer.append("alert_state", pa.Table.from_pylist([row], schema=ALERT_STATE_SCHEMA))
        writer.commit("alert_state", extra={"alert_key": key, "status": status})
    return key


@click.group()
def rules() -> None:
    """The guardrail rule catalog: list it, test its samples."""


@rules.command("list")
@click.pass_obj
def rules_list(obj: Context) -> None:
    """Every rule (built-in and the `rules_dirs` folders) with level and tags."""
    from agentwatch.detectors.detect.rules import BUILTIN_RULES_DIR, load_rules
    from agentwatch.render import render

    rows = [(r.id, r.level, r.status, " ".join(r.tags), r.title, r.path)
            for r in load_rules([BUILTIN_RULES_DIR, *rules_dirs_of(obj)])]
    click.echo(render(["id", "level", "status", "tags", "title", "file"], rows, "table", 70), nl=False)


@rules.command("test")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.pass_obj
def rules_test(obj: Context, files: tuple[Path, ...]) -> None:
    """Run each rule's samples (must fire / must stay silent); no FILE: the whole catalog."""
    from agentwatch.detectors.detect.rule_tests import run_samples
    from agentwatch.detectors.detect.rules import BUILTIN_RULES_DIR, load_rules

    loaded = load_rules(list(files) or [BUILTIN_RULES_DIR, *rules_dirs_of(obj)])
    outcomes = run_samples(loaded)
    for o in outcomes:
        click.echo(f"{'ok  ' if o.ok else 'FAIL'}  {o.rule_id}  must {o.expect}: {o.name}  ({o.where})")
    failed = [o for o in outcomes if not o.ok]
    click.echo(f"{len(loaded)} rules, {len(outcomes)} samples, {len(failed)} failed")
    if failed:
        raise SystemExit(1)


@click.command("eval")
@click.option("--labels", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="CSV session_id,label[,scenario] (label 1: incident).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_obj
def eval_command(obj: Context, labels: Path, as_json: bool) -> None:
    """Precision, recall, ROC AUC, recall at low FPR, per scenario, against labelled sessions."""
    from agentwatch.detectors.detect.evaluate import evaluate, format_evaluation, read_labels

    con = _connect(obj)
    if "risk_score" not in {c[0] for c in con.execute("describe sessions").fetchall()}:
        from agentwatch.errors import LakeError

        raise LakeError("sessions have no scores yet (run `agentwatch detect`)", str(obj.lake))
    result = evaluate(con, read_labels(labels))
    click.echo(json.dumps(asdict(result), indent=2) if as_json else format_evaluation(result), nl=not as_json)


def _connect(obj: Context):
    from agentwatch.lake import Lake

    return Lake(obj.lake).require().connect(inventory=obj.inventory)


def _views(con) -> set[str]:
    return {r[0] for r in con.execute("select view_name from duckdb_views() where not internal").fetchall()}
