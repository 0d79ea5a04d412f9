"""Real-shaped Claude Code transcript records and Codex rollout lines, written here (not copied), with the
fields and nesting the shipped versions write, for tests that go from a file to the lake and metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

CWD = "/home/dev/shop"
PROJECT = "-home-dev-shop"


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    """The records as a JSON Lines file (folders made as needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def claude_usage(output: int, *, fresh: int = 3, created: int = 1331, read: int = 14874) -> dict[str, Any]:
    """A Claude Code `message.usage` as the API streamed it so far (`output_tokens` grows to the final)."""
    return {"input_tokens": fresh, "cache_creation_input_tokens": created, "cache_read_input_tokens": read,
            "cache_creation": {"ephemeral_5m_input_tokens": created, "ephemeral_1h_input_tokens": 0},
            "output_tokens": output, "service_tier": "standard"}


def claude_record(kind: str, session: str, uuid: str, parent: str | None, ts: str, message: dict[str, Any],
                  *, version: str = "2.1.39", **extra: Any) -> dict[str, Any]:
    """One transcript record: the envelope every user/assistant record carries, then `extra` fields."""
    return {"parentUuid": parent, "isSidechain": False, "userType": "external", "cwd": CWD, "sessionId": session,
            "version": version, "gitBranch": "main", "type": kind, "message": message, "uuid": uuid,
            "timestamp": ts, **extra}


def claude_prompt(session: str, uuid: str, parent: str | None, ts: str, text: str, **extra: Any) -> dict[str, Any]:
    """A user record whose content is a plain string (a typed prompt, or a side chain's task)."""
    return claude_record("user", session, uuid, parent, ts, {"role": "user", "content": text}, **extra)


def claude_block(session: str, uuid: str, parent: str, ts: str, message_id: str, block: dict[str, Any],
                 usage: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An assistant record holding one content block of a streamed message, with the usage so far."""
    message = {"model": "claude-opus-4-6", "id": message_id, "type": "message", "role": "assistant",
               "content": [block], "stop_reason": None, "stop_sequence": None, "usage": usage}
    return claude_record("assistant", session, uuid, parent, ts, message, requestId=f"req_{message_id[4:]}", **extra)


def claude_result(session: str, uuid: str, parent: str, ts: str, call_id: str, text: str,
                  **extra: Any) -> dict[str, Any]:
    """A user record carrying one tool result."""
    content = [{"tool_use_id": call_id, "type": "tool_result", "content": [{"type": "text", "text": text}]}]
    return claude_record("user", session, uuid, parent, ts, {"role": "user", "content": content}, **extra)


def codex_line(ts: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """One rollout line: `{timestamp, type, payload}`."""
    return {"timestamp": ts, "type": kind, "payload": payload}


def codex_meta(session: str, ts: str, version: str) -> dict[str, Any]:
    """A rollout's first line."""
    return codex_line(ts, "session_meta", {
        "id": session, "timestamp": ts, "cwd": "/srv/shop", "originator": "codex_cli_rs", "cli_version": version,
        "source": "cli", "model_provider": "openai", "base_instructions": {"text": "You are Codex."},
        "git": {"commit_hash": "5d0c8f1e2b3a4c5d6e7f8091a2b3c4d5e6f70819", "branch": "main"}})


def codex_call(ts: str, name: str, call_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """A function_call response item (arguments as the JSON text the model wrote)."""
    return codex_line(ts, "response_item", {"type": "function_call", "name": name,
                                            "arguments": orjson.dumps(arguments).decode(), "call_id": call_id})


def codex_output(ts: str, call_id: str, output: Any) -> dict[str, Any]:
    """A function_call_output response item."""
    return codex_line(ts, "response_item", {"type": "function_call_output", "call_id": call_id, "output": output})


def unified_exec_output(output: str, exit_code: int | None, *, session: int | None = None) -> str:
    """What exec_command (unified exec) returns to the model: a header, then `Output:` and the output."""
    header = ["Chunk ID: 7c1e9a", "Wall time: 0.4120 seconds"]
    if exit_code is not None:
        header.append(f"Process exited with code {exit_code}")
    if session is not None:
        header.append(f"Process running with session ID {session}")
    return "\n".join([*header, "Original token count: 12", "Output:", output])


def codex_exec_end(ts: str, call_id: str, command: str, output: str, exit_code: int,
                   status: str | None) -> dict[str, Any]:
    """An exec_command_end event as rollouts written with extended history keep it (outputs cleared but
    the aggregated one; `status` exists in newer versions only)."""
    payload: dict[str, Any] = {
        "type": "exec_command_end", "call_id": call_id, "process_id": "41", "turn_id": "1",
        "command": ["/bin/bash", "-lc", command], "cwd": "/srv/shop",
        "parsed_cmd": [{"type": "unknown", "cmd": command}], "source": "unified_exec_startup",
        "stdout": "", "stderr": "", "aggregated_output": output, "exit_code": exit_code,
        "duration": {"secs": 0, "nanos": 412000000}, "formatted_output": ""}
    if status is not None:
        payload["status"] = status
    return codex_line(ts, "event_msg", payload)
