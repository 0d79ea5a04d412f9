"""Control commands: `keygen` and `approve` (the signed confirmation loop), `gate` and `resume` (the
pause an escalation sets), `escalate` (run the playbooks on the lake's alerts)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
import orjson

if TYPE_CHECKING:
    from agentwatch.cli.context import Context


@click.command()
@click.option("--out", "prefix", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Writes PREFIX.key (private, mode 0600) and PREFIX.pub (base64 public key).")
def keygen(prefix: Path) -> None:
    """Write an Ed25519 key pair for signing approvals; print the inventory entry for its public key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    from agentwatch.errors import ConfigError

    private, public = prefix.with_name(prefix.name + ".key"), prefix.with_name(prefix.name + ".pub")
    for path in (private, public):
        if path.exists():
            raise ConfigError("refusing to overwrite an existing key file", str(path))
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    public_b64 = base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
    _write_atomically(private, pem, 0o600)
    _write_atomically(public, (public_b64 + "\n").encode(), 0o644)
    click.echo(f"wrote {private} (private, mode 0600) and {public}")
    click.echo(f"inventory, under the agent:  approval_keys: {{{prefix.name}: \"{public_b64}\"}}")


@click.command()
@click.option("--key", "key_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Private key file from `agentwatch keygen`.")
@click.option("--key-id", help="Key id the inventory lists [default: the key file's name without .key].")
@click.option("--tool-call-id", required=True, help="The tool call this approves.")
@click.option("--summary", help="The action's summary the human read; default: built from --tool-name/--args.")
@click.option("--tool-name", help="The tool being approved (also builds the summary with --args).")
@click.option("--args", "args_json", help="The call's arguments as JSON (with --tool-name, builds the summary).")
@click.option("--agent", "agent_id", required=True, help="Agent id of the session.")
@click.option("--session", "session_id", required=True, help="Session id the call belongs to.")
@click.option("--actor", help="The approving human [default: the key id].")
def approve(key_file: Path, key_id: str | None, tool_call_id: str, summary: str | None, tool_name: str | None,
            args_json: str | None, agent_id: str, session_id: str, actor: str | None) -> None:
    """Print one signed approval event as a native JSON line (append it to the agent's log)."""
    from agentwatch.detectors.metrics.verification import summarize_action
    from agentwatch.errors import ConfigError

    if summary is None:
        if not tool_name or args_json is None:
            raise ConfigError("give --summary, or --tool-name with --args to build it", "approve")
        try:
            summary = summarize_action(tool_name, orjson.loads(args_json))
        except orjson.JSONDecodeError as exc:
            raise ConfigError(f"--args is not JSON: {exc}", "approve") from exc
    key_id = key_id or key_file.name.removesuffix(".key")
    signature = base64.b64encode(_load_private_key(key_file).sign(summary.encode("utf-8"))).decode()
    event = {
        "event_id": "approval:" + hashlib.sha256(f"{session_id}\x1f{tool_call_id}\x1f{signature}".encode()).hexdigest(),
        "ts": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "agent_id": agent_id, "session_id": session_id, "event_type": "approval", "actor": actor or key_id,
        "tool_name": tool_name, "tool_call_id": tool_call_id,
        "attrs": {"summary": summary, "signature": signature, "key_id": key_id},
    }
    # ASCII-only JSON: the same strings once parsed, but no bidi or control character reaches a terminal
    click.echo(json.dumps({k: v for k, v in event.items() if v is not None}, separators=(",", ":")))


@click.command()
@click.option("--agent", "agent_id", required=True, help="Agent id to check.")
@click.pass_obj
def gate(obj: Context, agent_id: str) -> None:
    """Exit 1 while the agent is paused (prints why and since when), 0 otherwise."""
    from agentwatch.detectors.escalate.pause_gate import agent_control
    from agentwatch.inert import inert_text
    from agentwatch.lake import Lake

    state = agent_control(Lake(obj.lake), agent_id)
    if not state.paused:
        click.echo(f"agent {inert_text(agent_id)} is not paused")
        return
    click.echo(f"agent {inert_text(agent_id)} is PAUSED since {state.since.isoformat()} "
               f"by {inert_text(state.by or '?')}: {inert_text(state.reason or '')} "
               f"(alert {inert_text(state.alert_key or '-')})")
    raise SystemExit(1)


@click.command()
@click.option("--agent", "agent_id", required=True, help="Agent id to resume.")
@click.option("--by", "by", required=True, help="Who lifts the pause (recorded).")
@click.option("--reason", default="", help="Why (recorded).")
@click.pass_obj
def resume(obj: Context, agent_id: str, by: str, reason: str) -> None:
    """Lift an agent's pause and record who did it."""
    from agentwatch.detectors.escalate.pause_gate import resume_agent
    from agentwatch.inert import inert_text
    from agentwatch.lake import Lake

    lifted = resume_agent(Lake(obj.lake).require(), agent_id, by=by, reason=reason, at=datetime.now(UTC))
    if lifted is None:
        click.echo(f"agent {inert_text(agent_id)} is not paused: nothing recorded")
        return
    click.echo(f"agent {inert_text(agent_id)} resumed by {inert_text(by)} (paused since {lifted.since.isoformat()})")


@click.command()
@click.option("--playbooks", "playbooks_file", type=click.Path(dir_okay=False),
              help="Playbooks YAML [env AGENTWATCH_PLAYBOOKS; setting playbooks].")
@click.option("--not-before", help="Ignore alerts first seen before this ISO-8601 time (UTC unless it says).")
@click.pass_obj
def escalate(obj: Context, playbooks_file: str | None, not_before: str | None) -> None:
    """Run the playbooks' actions on open alerts (each alert once per action); exit 1 if any failed."""
    from agentwatch.detectors.escalate.playbooks import load_playbooks
    from agentwatch.detectors.escalate.run import run_escalations
    from agentwatch.errors import ConfigError
    from agentwatch.lake import Lake

    path = playbooks_file or obj.settings.get("playbooks")
    if not path:
        raise ConfigError("no playbooks given (--playbooks, AGENTWATCH_PLAYBOOKS or the `playbooks` setting)",
                          "escalate")
    run = run_escalations(Lake(obj.lake), load_playbooks(path), now=datetime.now(UTC),
                          not_before=_parse_time(not_before) if not_before else None)
    click.echo(f"escalate: {run.count_alerts} open alerts, {run.count_due} actions due "
               f"({run.count_already_settled} settled earlier): {run.count_ok} ok, {run.count_failed} to retry, "
               f"{run.count_gave_up} gave up; {run.count_attempts} attempts")
    if run.count_failed or run.count_gave_up:
        raise SystemExit(1)


def _parse_time(text: str) -> datetime:
    from agentwatch.errors import ConfigError

    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"not an ISO-8601 time: {text!r}", "--not-before") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _load_private_key(path: Path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from agentwatch.errors import ConfigError

    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"cannot read the private key: {exc}", str(path)) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError("not an Ed25519 private key", str(path))
    return key


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    """Create the file under a temporary name with its final mode from the start, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)  # os.open's mode is narrowed by the umask: set it exactly
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
