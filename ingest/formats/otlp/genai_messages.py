"""Chat messages to events: the structured message parts of the OpenTelemetry GenAI conventions.

A message is {"role", "parts": [...]} (semconv `gen_ai-input-messages.json`); each part becomes one
event: `text` by its message's role (system -> system_prompt, user -> user_prompt, assistant ->
llm_response, tool -> tool_result), `reasoning` -> reasoning, `tool_call` -> tool_call,
`tool_call_response` -> tool_result; any other part (blob, uri, file, ...) becomes an event of its
role with the part kept in attrs. OpenInference messages are converted to this shape first.

A model call's input repeats the whole conversation so far. Only what is new in this call becomes
events: the input messages after the last assistant message (earlier ones were the outputs and inputs
of earlier calls). System instructions count as new only when the input has no assistant message yet.
The repeated history is kept, raw, in attrs["part"]["input_history"] of one event of the span.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from agentwatch.errors import RecordError
from agentwatch.ingest.records import check_str, json_kind

ROLE_EVENT_TYPES = {
    "system": "system_prompt",
    "developer": "system_prompt",
    "user": "user_prompt",
    "human": "user_prompt",
    "assistant": "llm_response",
    "model": "llm_response",
    "ai": "llm_response",
    "tool": "tool_result",
    "function": "tool_result",
    "ipython": "tool_result",
}
ASSISTANT_ROLES = frozenset(role for role, kind in ROLE_EVENT_TYPES.items() if kind == "llm_response")


@dataclass
class Message:
    """One chat message, with when and from where in the span it was read."""

    role: str
    parts: list[Any]
    time_ns: int
    source: str  # the attribute or span event it came from
    path: str  # for error reasons
    extras: dict[str, Any] = field(default_factory=dict)
    raw: Any = None


def parse_messages(value: Any, path: str, time_ns: int, source: str) -> list[Message]:
    """A GenAI message list, structured or as JSON text."""
    value = json_value(value, path)
    if not isinstance(value, list):
        raise RecordError(f"{path}: expected array of messages, got {json_kind(value)}")
    return [_message(item, f"{path}[{i}]", time_ns, source) for i, item in enumerate(value)]


def parse_instructions(value: Any, path: str, time_ns: int, source: str) -> list[Message]:
    """`gen_ai.system_instructions`: a list of parts, one system message."""
    value = json_value(value, path)
    if not isinstance(value, list):
        raise RecordError(f"{path}: expected array of parts, got {json_kind(value)}")
    return [Message("system", value, time_ns, source, path, raw=value)]


def json_value(value: Any, path: str) -> Any:
    """A structured attribute value, or the same recorded as JSON text (semconv allows both)."""
    if not isinstance(value, str):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise RecordError(f"{path}: not valid JSON ({exc})") from exc


def _message(item: Any, path: str, time_ns: int, source: str) -> Message:
    if not isinstance(item, dict):
        raise RecordError(f"{path}: expected message object, got {json_kind(item)}")
    role, parts = item.get("role"), item.get("parts")
    if not isinstance(role, str):
        raise RecordError(f"{path}.role: expected string, got {json_kind(role)}")
    if not isinstance(parts, list):
        raise RecordError(f"{path}.parts: expected array, got {json_kind(parts)}")
    extras = {key: value for key, value in item.items() if key not in ("role", "parts")}
    return Message(role, parts, time_ns, source, path, extras, raw=item)


def conversation_parts(
    inputs: list[Message], outputs: list[Message], system: list[Message]
) -> tuple[list[dict[str, Any]], list[Any]]:
    """The events of one call: new inputs, then outputs; and the raw history left out."""
    last = max((i for i, m in enumerate(inputs) if m.role.lower() in ASSISTANT_ROLES), default=-1)
    new, history = inputs[last + 1 :], inputs[: last + 1]
    messages = ([] if history else system) + new + outputs
    parts = [part for message in messages for part in message_parts(message)]
    return parts, [m.raw for m in history]


def message_parts(message: Message) -> list[dict[str, Any]]:
    """One event per part of a message."""
    return [_part(message, j, part) for j, part in enumerate(message.parts)]


def _part(message: Message, j: int, part: Any) -> dict[str, Any]:
    path = f"{message.path}.parts[{j}]"
    if not isinstance(part, dict) or not isinstance(part.get("type"), str):
        raise RecordError(f"{path}: expected part object with a string `type`")
    kind = part["type"]
    maker = _PART_MAKERS.get(kind, _other_part)
    event, used = maker(part, path, message.role)
    rest = {key: value for key, value in part.items() if key not in used and key != "type"}
    extras = {"role": message.role, "part_type": kind, **message.extras, **rest}
    return {**event, "time_ns": message.time_ns, "source": message.source, "part": extras}


def _text_part(part: dict[str, Any], path: str, role: str) -> tuple[dict[str, Any], set[str]]:
    return {"event_type": role_event_type(role), "text": str_at(part, "content", path)}, {"content"}


def _reasoning_part(part: dict[str, Any], path: str, role: str) -> tuple[dict[str, Any], set[str]]:
    return {"event_type": "reasoning", "text": str_at(part, "content", path)}, {"content"}


def _tool_call_part(part: dict[str, Any], path: str, role: str) -> tuple[dict[str, Any], set[str]]:
    event = {
        "event_type": "tool_call",
        "tool_name": str_at(part, "name", path),
        "tool_call_id": str_at(part, "id", path),
        "tool_args": part.get("arguments"),
    }
    return event, {"name", "id", "arguments"}


def _tool_response_part(part: dict[str, Any], path: str, role: str) -> tuple[dict[str, Any], set[str]]:
    key = "response" if "response" in part else "result"  # early semconv examples said `result`
    event = {"event_type": "tool_result", "tool_call_id": str_at(part, "id", path), "text": as_text(part.get(key))}
    return event, {"id", key}


def _other_part(part: dict[str, Any], path: str, role: str) -> tuple[dict[str, Any], set[str]]:
    return {"event_type": role_event_type(role)}, set()


_PART_MAKERS = {
    "text": _text_part,
    "reasoning": _reasoning_part,
    "thinking": _reasoning_part,
    "tool_call": _tool_call_part,
    "tool_call_response": _tool_response_part,
}


def role_event_type(role: str) -> str:
    """The event type of a message's text by its role; an unknown role is kept as `message:<role>`."""
    return ROLE_EVENT_TYPES.get(role.lower(), f"message:{role}")


def as_text(value: Any) -> str | None:
    """Text as is; any other JSON value as JSON text (a tool's result may be structured)."""
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def str_at(obj: dict[str, Any], key: str, path: str) -> str | None:
    """The string at `obj[key]` (None when absent), named `path.key` when it is another kind."""
    return check_str(obj.get(key), f"{path}.{key}")
