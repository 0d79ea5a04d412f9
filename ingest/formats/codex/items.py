"""Codex response items (the model-visible history of a rollout) into canonical events.

Shared by both rollout eras: wrapped (`{"type": "response_item", "payload": item}`) and bare (the item
itself is the line). `path` prefixes field names in errors (`payload.` for wrapped records).

- message: one event per content part. assistant -> `llm_response`; developer/system ->
  `system_prompt`; user -> `user_prompt`, except the context Codex injects as user messages
  (`<environment_context>`, AGENTS.md / user instructions) -> `system_prompt`.
- reasoning -> `reasoning` (summary and readable content joined; `encrypted_content` kept in attrs).
- function_call, custom_tool_call, local_shell_call, web_search_call, tool_search_call,
  image_generation_call -> `tool_call` (`spawn_agent` -> `agent_spawn`); their `*_output` items ->
  `tool_result`, joined on `call_id`. The output (a string, content parts, or `{content, success}`)
  is `error` when it says `success: false` or reports a non-zero exit code: `metadata.exit_code`
  (shell, 2025), an `Exit code: N` first line (shell, shell_command), `Process exited with code N`
  in the header above `Output:` (exec_command, the unified exec tool: 0.104); else `ok`.
- ghost_snapshot and compaction carry no event (`SkipRecord`); an unknown item type is quarantined.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson

from agentwatch.errors import RecordError
from agentwatch.ingest.formats import SkipRecord
from agentwatch.ingest.formats.fields import (
    as_json_text,
    block_type,
    get_blocks,
    get_dict,
    get_id,
    get_str,
    join_texts,
    quoted,
    without,
)
from agentwatch.ingest.records import json_kind

INJECTED_PREFIXES = (
    "<environment_context", "<user_instructions", "# AGENTS.md instructions", "<permissions instructions",
    "<INSTRUCTIONS>",
)
SPAWN_TOOLS = frozenset({"spawn_agent"})
SKIPPED_ITEMS = frozenset({"ghost_snapshot", "compaction", "compaction_summary"})
ROLE_EVENTS = {"assistant": "llm_response", "user": "user_prompt", "developer": "system_prompt",
               "system": "system_prompt"}
_EXIT_LINE = re.compile(r"^(?:Exit code: |Process exited with code )(-?\d+)\s*$")
# Codex's header above a command's output (chunk id, wall time, exit code, token count) is short.
HEADER_CHARS = 512


def decode_item(item: dict, path: str) -> list[dict[str, Any]]:
    """One response item into its events (a message gives one per content part)."""
    kind = block_type(item, path.rstrip(".") or "item")
    if kind in SKIPPED_ITEMS:
        raise SkipRecord(f"codex {kind} item")
    decode = _ITEMS.get(kind)
    if decode is None:
        raise RecordError(f"unknown codex response item type {quoted(kind)}")
    events = decode(item, path)
    if not events:
        raise SkipRecord(f"codex {kind} item without content")
    return events


def _message(item: dict, path: str) -> list[dict[str, Any]]:
    role = get_str(item, "role", path, required=True)
    if role not in ROLE_EVENTS:
        raise RecordError(f"unknown codex message role {quoted(role)}")
    parts = get_blocks(item.get("content"), f"{path}content")
    shared = without(item, "content")
    events = []
    for i, part in enumerate(parts):
        block_type(part, f"{path}content[{i}]")
        text = get_str(part, "text", f"{path}content[{i}].")
        event_type = ROLE_EVENTS[role]
        if role == "user" and text is not None and text.lstrip().startswith(INJECTED_PREFIXES):
            event_type = "system_prompt"
        events.append({"event_type": event_type, "text": text,
                       "attrs": {**shared, "part": without(part, "text")}})
    return events


def _reasoning(item: dict, path: str) -> list[dict[str, Any]]:
    texts = [join_texts(item.get(key), f"{path}{key}") for key in ("summary", "content")]
    text = "\n".join(t for t in texts if t) or None
    return [{"event_type": "reasoning", "text": text, "attrs": without(item, "summary", "content")}]


def _function_call(item: dict, path: str) -> list[dict[str, Any]]:
    name = get_str(item, "name", path, required=True)
    args = item.get("arguments")
    return [_call(item, path, name, None if args is None else as_json_text(args), "name", "arguments")]


def _custom_tool_call(item: dict, path: str) -> list[dict[str, Any]]:
    name = get_str(item, "name", path, required=True)
    tool_input = get_str(item, "input", path)
    args = None if tool_input is None else orjson.dumps(tool_input).decode()
    return [_call(item, path, name, args, "name", "input")]


def _local_shell_call(item: dict, path: str) -> list[dict[str, Any]]:
    action = get_dict(item, "action", path)
    return [_call(item, path, "local_shell", None if action is None else as_json_text(action), "action")]


def _web_search_call(item: dict, path: str) -> list[dict[str, Any]]:
    action = get_dict(item, "action", path)
    return [_call(item, path, "web_search", None if action is None else as_json_text(action), "action")]


def _tool_search_call(item: dict, path: str) -> list[dict[str, Any]]:
    args = item.get("arguments")
    return [_call(item, path, "tool_search", None if args is None else as_json_text(args), "arguments")]


def _image_generation_call(item: dict, path: str) -> list[dict[str, Any]]:
    prompt = get_str(item, "revised_prompt", path)
    args = None if prompt is None else as_json_text({"revised_prompt": prompt})
    return [_call(item, path, "image_generation", args, "revised_prompt")]


def _call(item: dict, path: str, name: str, args: str | None, *mapped: str) -> dict[str, Any]:
    call_id = get_id(item, "call_id", path) or get_id(item, "id", path)
    return {
        "event_type": "agent_spawn" if name in SPAWN_TOOLS else "tool_call",
        "tool_name": name,
        "tool_call_id": call_id,
        "tool_args": args,
        "attrs": without(item, "call_id", *mapped),
    }


def _output(item: dict, path: str) -> list[dict[str, Any]]:
    text, status = _output_text(item.get("output"), f"{path}output")
    return [{
        "event_type": "tool_result",
        "tool_call_id": get_id(item, "call_id", path, required=True),
        "text": text,
        "status": status,
        "attrs": without(item, "call_id", "output") | _kept_output(item.get("output")),
    }]


def _tool_search_output(item: dict, path: str) -> list[dict[str, Any]]:
    failed = item.get("status") in ("failed", "incomplete")
    return [{
        "event_type": "tool_result",
        "tool_call_id": get_id(item, "call_id", path, required=True),
        "status": "error" if failed else "ok",
        "attrs": without(item, "call_id"),
    }]


def _output_text(output: Any, path: str) -> tuple[str | None, str | None]:
    """(text, status) of a tool output: a string, an array of content parts, or {content, success}.
    A command that exited non-zero is an error whatever the shape around its text."""
    if output is None:
        return None, None
    failed = False
    if isinstance(output, list):
        text = join_texts(output, path)
    elif isinstance(output, dict):
        text = get_str(output, "content", f"{path}.")
        failed = output.get("success") is False
    elif isinstance(output, str):
        text = output
    else:
        raise RecordError(f"`{path}`: expected string, array or object, got {json_kind(output)}")
    exit_code = _exit_code(text) if text else None
    return text, "error" if failed or exit_code not in (None, 0) else "ok"


def _exit_code(text: str) -> int | None:
    """The exit code Codex wrote about a command: JSON `metadata.exit_code` (shell tool, 2025), an
    `Exit code: N` first line (shell, shell_command), or `Process exited with code N` among the header
    lines before `Output:` (exec_command, unified exec). The command's own output is never read."""
    if text.startswith("{"):
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
        metadata = parsed.get("metadata") if isinstance(parsed, dict) else None
        code = metadata.get("exit_code") if isinstance(metadata, dict) else None
        return code if isinstance(code, int) and not isinstance(code, bool) else None
    end = text.find("\nOutput:", 0, HEADER_CHARS)
    header = text[:end] if end >= 0 else text.split("\n", 1)[0]
    for line in header.split("\n"):
        if match := _EXIT_LINE.match(line):
            return int(match.group(1))
    return None


def _kept_output(output: Any) -> dict[str, Any]:
    """Output parts the text leaves out (images), so nothing is dropped."""
    if isinstance(output, list):
        other = [part for part in output if not (isinstance(part, dict) and isinstance(part.get("text"), str))]
        return {"output": other} if other else {}
    if isinstance(output, dict):
        return {"output": without(output, "content")}
    return {}


_ITEMS: dict[str, Callable[[dict, str], list[dict[str, Any]]]] = {
    "message": _message,
    "reasoning": _reasoning,
    "function_call": _function_call,
    "custom_tool_call": _custom_tool_call,
    "local_shell_call": _local_shell_call,
    "web_search_call": _web_search_call,
    "tool_search_call": _tool_search_call,
    "image_generation_call": _image_generation_call,
    "function_call_output": _output,
    "custom_tool_call_output": _output,
    "tool_search_output": _tool_search_output,
}
