"""`codex exec --json` event streams (`thread.started`, `turn.*`, `item.*`, `error`) into canonical events.

The stream's items are decoded when they complete: `item.completed` carries the final state, so
`item.started`/`item.updated` are skipped (counted). An item still in flight when a stream was cut off
is therefore not an event. A tool item gives a `tool_call` and its `tool_result` (index 0 and 1),
both with `tool_call_id` = the item id and the tool's name:

- command_execution -> tool `command_execution`, args `{"command"}`, result = aggregated output,
  `status` error when the command failed, was declined or exited non-zero;
- file_change -> tool `file_change`, args `{"changes"}`; mcp_tool_call -> tool `mcp__<server>__<tool>`
  (the naming Claude Code uses), args = its arguments, result = its text content or error;
- web_search, todo_list -> a `tool_call` only (the stream reports no result content);
- collab_tool_call spawn_agent -> `agent_spawn` (text = the prompt); other collab tools -> `tool_call`;
- agent_message, plan -> `llm_response`; reasoning -> `reasoning`; error -> `error`.
`thread.started` -> a `system_prompt` event without text (its `thread_id` in attrs: the id the rollout
file of the same thread is named by); `turn.completed` -> an `llm_response` without text carrying the
turn's token usage; `turn.failed` and `error` -> `error`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agentwatch.errors import RecordError
from agentwatch.ingest.formats import SkipRecord
from agentwatch.ingest.formats.fields import (
    as_json_text,
    block_type,
    get_dict,
    get_id,
    get_int,
    get_str,
    join_texts,
    quoted,
    without,
)

SKIPPED_EVENTS = frozenset({"turn.started", "item.started", "item.updated", "item.plan.delta",
                            "request_user_input"})


def decode_exec_event(record: dict) -> list[dict[str, Any]]:
    """One exec stream event into its events."""
    kind = record["type"]
    if kind in SKIPPED_EVENTS:
        raise SkipRecord(f"codex exec {kind}")
    if kind == "item.completed":
        return _item(get_dict(record, "item", required=True))
    decode = _EVENTS.get(kind)
    if decode is None:
        raise RecordError(f"unknown codex exec event type {quoted(kind)}")
    return [decode(record)]


def _thread_started(record: dict) -> dict[str, Any]:
    get_id(record, "thread_id", required=True)
    return {"event_type": "system_prompt", "attrs": without(record, "type")}


def _turn_completed(record: dict) -> dict[str, Any]:
    usage = get_dict(record, "usage", required=True)
    return {
        "event_type": "llm_response",
        "input_tokens": get_int(usage, "input_tokens", "usage."),
        "output_tokens": get_int(usage, "output_tokens", "usage."),
        "attrs": without(record, "type"),
    }


def _turn_failed(record: dict) -> dict[str, Any]:
    error = get_dict(record, "error", required=True)
    return _error(get_str(error, "message", "error."), without(record, "type"))


def _stream_error(record: dict) -> dict[str, Any]:
    return _error(get_str(record, "message"), without(record, "type", "message"))


def _error(text: str | None, attrs: dict[str, Any]) -> dict[str, Any]:
    return {"event_type": "error", "status": "error", "text": text, "attrs": attrs}


_EVENTS: dict[str, Callable[[dict], dict[str, Any]]] = {
    "thread.started": _thread_started,
    "turn.completed": _turn_completed,
    "turn.failed": _turn_failed,
    "error": _stream_error,
}


def _item(item: dict) -> list[dict[str, Any]]:
    kind = block_type(item, "item")
    item_id = get_id(item, "id", "item.", required=True)
    decode = _ITEMS.get(kind)
    if decode is None:
        raise RecordError(f"unknown codex exec item type {quoted(kind)}")
    events = decode(item)
    for event in events:
        if event["event_type"] in ("tool_call", "tool_result", "agent_spawn"):
            event["tool_call_id"] = item_id
        if event["event_type"] == "tool_result":  # the call's name belongs on its result too
            event["tool_name"] = events[0]["tool_name"]
    return events


def _text_item(event_type: str) -> Callable[[dict], list[dict[str, Any]]]:
    def decode(item: dict) -> list[dict[str, Any]]:
        text = get_str(item, "text", "item.") if event_type != "error" else get_str(item, "message", "item.")
        event = {"event_type": event_type, "text": text, "attrs": {"item": without(item, "text", "message")}}
        if event_type == "error":
            event["status"] = "error"
        return [event]

    return decode


def _command(item: dict) -> list[dict[str, Any]]:
    command = get_str(item, "command", "item.")
    exit_code = get_int(item, "exit_code", "item.")
    failed = item.get("status") in ("failed", "declined") or exit_code not in (None, 0)
    result = _result(get_str(item, "aggregated_output", "item."), failed, item)
    call = _tool_call(item, "command_execution", {"command": command}, "command", "aggregated_output")
    return [call, result]


def _file_change(item: dict) -> list[dict[str, Any]]:
    call = _tool_call(item, "file_change", {"changes": item.get("changes")}, "changes")
    return [call, _result(None, item.get("status") == "failed", item)]


def _mcp_call(item: dict) -> list[dict[str, Any]]:
    server = get_str(item, "server", "item.", required=True)
    tool = get_str(item, "tool", "item.", required=True)
    result, error = get_dict(item, "result", "item."), get_dict(item, "error", "item.")
    text = get_str(error, "message", "item.error.") if error else None
    if result is not None:
        text = join_texts(result.get("content"), "item.result.content")
    failed = error is not None or item.get("status") == "failed"
    call = _tool_call(item, f"mcp__{server}__{tool}", item.get("arguments"), "arguments")
    return [call, _result(text, failed, item)]


def _web_search(item: dict) -> list[dict[str, Any]]:
    return [_tool_call(item, "web_search", {"query": item.get("query"), "action": item.get("action")},
                       "query", "action")]


def _todo_list(item: dict) -> list[dict[str, Any]]:
    return [_tool_call(item, "todo_list", {"items": item.get("items")}, "items")]


def _collab(item: dict) -> list[dict[str, Any]]:
    tool = get_str(item, "tool", "item.", required=True)
    call = _tool_call(item, f"collab.{tool}", {"prompt": item.get("prompt")}, "prompt")
    if tool == "spawn_agent":
        call.update(event_type="agent_spawn", text=get_str(item, "prompt", "item."))
    return [call]


def _tool_call(item: dict, name: str, args: Any, *mapped: str) -> dict[str, Any]:
    return {"event_type": "tool_call", "tool_name": name, "tool_args": as_json_text(args),
            "attrs": {"item": without(item, *mapped)}}


def _result(text: str | None, failed: bool, item: dict) -> dict[str, Any]:
    return {"event_type": "tool_result", "text": text, "status": "error" if failed else "ok",
            "attrs": {"item_status": item.get("status")}}


_ITEMS: dict[str, Callable[[dict], list[dict[str, Any]]]] = {
    "agent_message": _text_item("llm_response"),
    "plan": _text_item("llm_response"),
    "reasoning": _text_item("reasoning"),
    "error": _text_item("error"),
    "command_execution": _command,
    "file_change": _file_change,
    "mcp_tool_call": _mcp_call,
    "web_search": _web_search,
    "todo_list": _todo_list,
    "collab_tool_call": _collab,
}
