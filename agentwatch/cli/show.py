"""`agentwatch show SESSION`: one session as a timeline, with approvals, sub-agents, evidence marked,
then its reasons and metrics; as text for a terminal (inert, long text cut) or as JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from agentwatch.cli.option_types import CELL_WIDTH
from agentwatch.inert import inert_text
from agentwatch.render import plain_value, value_text

if TYPE_CHECKING:
    from agentwatch.cli.context import Context
    from agentwatch.session_view import SessionView

EVIDENCE = "*"


@click.command()
@click.argument("session_id")
@click.option("--agent", "agent_id", help="The agent, when more than one logged a session with this id.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--width", type=CELL_WIDTH, default=100, show_default=True,
              help="Cut each event's text to this many characters; 0: never cut (json never cuts).")
@click.pass_obj
def show(obj: Context, session_id: str, agent_id: str | None, fmt: str, width: int) -> None:
    """One session as a timeline (approvals, sub-agents, evidence marked), its reasons and metrics."""
    from agentwatch.lake import Lake
    from agentwatch.session_view import load_session

    con = Lake(obj.lake).require().connect(inventory=obj.inventory)
    view = load_session(con, str(obj.lake), session_id, agent_id)
    click.echo(session_json(view) if fmt == "json" else "\n".join(session_lines(view, width)))


def session_json(view: SessionView) -> str:
    """The whole session as ASCII-only JSON: nothing cut, no control character reaches a terminal."""
    return json.dumps(plain_value(view.__dict__), indent=2)


def session_lines(view: SessionView, width: int) -> list[str]:
    """The session as lines of inert text: header, timeline, reasons, sub-agents, metrics."""
    lines = _header(view)
    lines += ["", f"timeline ({len(view.timeline)} events; {EVIDENCE} marks evidence, [n] the reasons it supports)"]
    days = {e["ts"].date() for e in view.timeline if e["ts"] is not None}
    lines += [_event_line(e, width, len(days) > 1) for e in view.timeline]
    if view.reasons:
        lines += ["", f"reasons ({len(view.reasons)})"]
        lines += [_reason_line(r, width) for r in view.reasons]
    delegated = [c for c in view.sub_agents if not c["housekeeping"]]
    chores = [c for c in view.sub_agents if c["housekeeping"]]
    if delegated:
        lines += ["", f"sub-agents ({len(delegated)})", *map(_child_line, delegated)]
    if chores:
        lines += ["", f"the agent's own side chains, not sub-agents ({len(chores)})", *map(_child_line, chores)]
    lines += ["", *_metric_lines(view.metrics)]
    return lines


def _child_line(child: dict[str, Any]) -> str:
    kind = f" ({_t(child['housekeeping'])})" if child["housekeeping"] else ""
    return (f"  {_t(child['session_id'])}{kind} of {_t(child['agent_id'])}: {_many(child['count_events'], 'event')}, "
            f"{_many(child['count_tool_calls'], 'tool call')}, from {child['started_at']:%Y-%m-%d %H:%M:%S}")


def _header(view: SessionView) -> list[str]:
    link = "side chain of" if view.metrics.get("is_housekeeping") else "spawned by"
    parent = f", {link} session {_t(view.parent_session_id)}" if view.parent_session_id else ""
    lines = [f"session {_t(view.session_id)} of agent {_t(view.agent_id)}{parent}",
             f"{view.started_at:%Y-%m-%d %H:%M:%S} to {view.ended_at:%Y-%m-%d %H:%M:%S} UTC"]
    scores = view.scores
    if "risk_score" in scores:
        state = "FLAGGED" if scores.get("flagged") else "not flagged"
        lines.append(f"risk {scores['risk_score']:.2f} ({state}), anomaly {scores.get('anomaly_score') or 0:.2f}")
    else:
        lines.append("no scores yet (run `agentwatch detect` or `agentwatch run`)")
    return lines


def _event_line(event: dict[str, Any], width: int, show_day: bool) -> str:
    mark = EVIDENCE if event["evidence_of"] else " "
    when = f"{event['ts']:{'%m-%d %H:%M:%S' if show_day else '%H:%M:%S'}}" if event["ts"] else "?"
    refs = "  " + " ".join(f"[{n}]" for n in event["evidence_of"]) if event["evidence_of"] else ""
    return f"{mark} {event['seq']:>4}  {when}  {_t(event['event_type']):<13} {_what(event, width)}{refs}"


def _what(event: dict[str, Any], width: int) -> str:
    """What happened, in the words that fit the event type."""
    kind, text = event["event_type"], _cut(event["text"], width)
    if kind in ("user_prompt", "system_prompt"):
        return f"{_t(event['actor'] or '?')}: {text}"
    if kind == "tool_call":
        approval = event["approval"]
        verdict = f"  (approval: {_t(approval['approval_outcome'])}" + (
            f" by {_t(approval['approval_actor'])})" if approval["approval_actor"] else ")") if approval else ""
        return f"{_t(event['tool_name'] or '?')}({_cut(event['tool_args'], width)}){verdict}"
    if kind == "tool_result":
        status = " ERROR" if event["status"] == "error" else ""
        return f"{_t(event['tool_name'] or event['tool_call_id'] or '?')}{status} -> {text}"
    if kind == "approval":
        summary = _cut(event["approval_summary"], width)
        return f"{_t(event['actor'] or '?')} approves call {_t(event['tool_call_id'] or '?')}: {summary}"
    if kind == "agent_spawn":
        child = _t(event["child_session_id"] or "?")
        return f"starts sub-agent session {child}" + (f": {text}" if event["text"] else "")
    return text


def _reason_line(reason: dict[str, Any], width: int) -> str:
    seqs = ", ".join(f"#{s}" if s is not None else "another session" for s in reason["evidence_seqs"])
    evidence = f" (evidence: {seqs})" if seqs else ""
    return (f"  [{reason['number']}] {_t(reason.get('level') or '?')} {_t(reason.get('id') or '?')}: "
            f"{_cut(reason.get('text'), width)}{evidence}")


def _metric_lines(metrics: dict[str, Any]) -> list[str]:
    if not metrics:
        return ["no metrics yet (run `agentwatch metrics` or `agentwatch run`)"]
    shown = {k: v for k, v in metrics.items() if v not in (None, 0, 0.0, False, [], {}, "")}
    name_width = max(map(len, shown), default=0)
    return [f"metrics ({len(shown)} of {len(metrics)}; zero and empty ones left out, --format json has all)",
            *(f"  {k.ljust(name_width)}  {_cut(_number(v), 100)}" for k, v in shown.items())]


def _number(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else value_text(value)


def _cut(value: Any, width: int) -> str:
    """Inert text cut to width characters, saying how much was left out."""
    if value is None:
        return ""
    text = inert_text(value_text(value))
    if width == 0 or len(text) <= width:
        return text
    return f"{text[:width]}… (+{len(text) - width:,} chars)"


def _many(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _t(value: Any) -> str:
    return inert_text(value_text(value))
