"""The OpenTelemetry GenAI semantic conventions: which events one span is.

By `gen_ai.operation.name`:
- `chat`, `text_completion`, `generate_content`: the new inputs (user_prompt, system_prompt,
  tool_result), then the outputs (llm_response, reasoning, tool_call) from `gen_ai.input.messages`,
  `gen_ai.output.messages`, `gen_ai.system_instructions` (see `genai_messages`), or from the older
  per-message span events (`gen_ai.user.message`, ..., `gen_ai.choice`) when the span has none of those.
  One llm_response always carries the call's model and token usage (a text-less one when the output
  was not captured or was only tool calls).
- `execute_tool`: a tool_call at the span's start and a tool_result at its end
  (`gen_ai.tool.name`, `gen_ai.tool.call.id`, `gen_ai.tool.call.arguments`, `gen_ai.tool.call.result`).
- `invoke_agent`, `create_agent`, `invoke_workflow`: an agent_spawn when an ancestor span in the same
  request is an agent (its agent and session are the parent's), plus the events of any messages; a
  root agent span with neither is the run's start: a `system_prompt` without text at its start.
  Token usage of agent spans stays in attrs: it sums the calls already counted on chat spans.
Identity: `gen_ai.agent.id`, else `gen_ai.agent.name`; session: `gen_ai.conversation.id`.
Model: `gen_ai.response.model`, else `gen_ai.request.model`. Inputs happen at the span's start,
outputs at its end; per-message span events at their own time.
"""

from __future__ import annotations

from typing import Any

from agentwatch.errors import RecordError
from agentwatch.ingest.formats.otlp.common import Span, SpanEvent
from agentwatch.ingest.formats.otlp.genai_messages import (
    Message,
    as_text,
    conversation_parts,
    json_value,
    parse_instructions,
    parse_messages,
)
from agentwatch.ingest.formats.otlp.spans import Convention, Identity, MappedSpan, SpanContext
from agentwatch.ingest.formats.otlp.values import first_str, int_attr, str_attr
from agentwatch.ingest.records import json_kind

CHAT_OPERATIONS = frozenset({"chat", "text_completion", "generate_content"})
AGENT_OPERATIONS = frozenset({"invoke_agent", "create_agent", "invoke_workflow"})
AGENT_KEYS = ("gen_ai.agent.id", "gen_ai.agent.name")
SESSION_KEYS = ("gen_ai.conversation.id",)
MODEL_KEYS = ("gen_ai.response.model", "gen_ai.request.model")
INPUT, OUTPUT, SYSTEM = "gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions"
TOKEN_KEYS = {"input_tokens": "gen_ai.usage.input_tokens", "output_tokens": "gen_ai.usage.output_tokens"}
TOOL_KEYS = ("gen_ai.tool.name", "gen_ai.tool.call.id", "gen_ai.tool.call.arguments", "gen_ai.tool.call.result")
LEGACY_ROLES = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
    "gen_ai.content.prompt": "user",
}
LEGACY_OUTPUTS = frozenset({"gen_ai.choice", "gen_ai.content.completion"})


APPROVAL_EVENT = "agentwatch.approval"


def genai_identity(span: Span) -> Identity:
    """Agent and session as the span states them."""
    a = span.attributes
    return Identity(
        agent_id=first_str(a, AGENT_KEYS)[1],
        session_id=first_str(a, SESSION_KEYS)[1],
        is_agent=str_attr(a, "gen_ai.operation.name") in AGENT_OPERATIONS,
    )


def map_genai_span(span: Span, ctx: SpanContext) -> MappedSpan:
    """The events of one span by its GenAI operation."""
    a = span.attributes
    operation = str_attr(a, "gen_ai.operation.name")
    mapped = MappedSpan(fallback_type=operation or "span")
    consume_identity(a, mapped, AGENT_KEYS, SESSION_KEYS)
    mapped.model = consume_first(a, mapped, MODEL_KEYS)
    if operation in CHAT_OPERATIONS:
        _map_chat(span, mapped)
    elif operation == "execute_tool":
        _map_tool(span, mapped)
    elif operation in AGENT_OPERATIONS:
        mapped.fallback_type = "system_prompt"  # a run's start, like Codex's thread.started
        mapped.parts.extend(spawn_parts(span, ctx))
        mapped.parts.extend(_messages_parts(span, mapped)[0])
    return mapped


def _map_chat(span: Span, mapped: MappedSpan) -> None:
    add_call_parts(span, mapped, *_messages_parts(span, mapped), TOKEN_KEYS)


def add_call_parts(span: Span, mapped: MappedSpan, parts: list[dict[str, Any]], history: list[Any],
                   token_keys: dict[str, str]) -> None:
    """A model call's events: one llm_response carries the call's token usage (a text-less one at the
    span's end when none was captured); the repeated input history is kept once, on the first event."""
    anchor = next((p for p in parts if p["event_type"] == "llm_response"), None)
    if anchor is None:
        anchor = {"event_type": "llm_response", "time_ns": span.end_ns, "source": "span"}
        parts.append(anchor)
    for column, key in token_keys.items():
        if key in span.attributes:
            anchor[column] = int_attr(span.attributes, key)
            mapped.consumed.add(key)
    if history:
        parts[0].setdefault("part", {})["input_history"] = history
    mapped.parts.extend(parts)


def _messages_parts(span: Span, mapped: MappedSpan) -> tuple[list[dict[str, Any]], list[Any]]:
    a = span.attributes
    if not any(key in a for key in (INPUT, OUTPUT, SYSTEM)):
        return conversation_parts(*legacy_messages(span, mapped))
    mapped.consumed.update(key for key in (INPUT, OUTPUT, SYSTEM) if key in a)
    inputs = parse_messages(a[INPUT], f"attributes[{INPUT!r}]", span.start_ns, INPUT) if INPUT in a else []
    outputs = parse_messages(a[OUTPUT], f"attributes[{OUTPUT!r}]", span.end_ns, OUTPUT) if OUTPUT in a else []
    system = parse_instructions(a[SYSTEM], f"attributes[{SYSTEM!r}]", span.start_ns, SYSTEM) if SYSTEM in a else []
    return conversation_parts(inputs, outputs, system)


def _map_tool(span: Span, mapped: MappedSpan) -> None:
    a = span.attributes
    name = str_attr(a, "gen_ai.tool.name") or span.name.removeprefix("execute_tool").strip() or None
    call_id = str_attr(a, "gen_ai.tool.call.id")
    common = {"tool_name": name, "tool_call_id": call_id, "source": "span"}
    mapped.parts.append({**common, "event_type": "tool_call", "time_ns": span.start_ns,
                         "tool_args": a.get("gen_ai.tool.call.arguments")})
    mapped.parts.append({**common, "event_type": "tool_result", "time_ns": span.end_ns,
                         "text": as_text(a.get("gen_ai.tool.call.result"))})
    mapped.consumed.update(key for key in TOOL_KEYS if key in a)
    mapped.parts.extend(_approval_parts(span, mapped, common))


def _approval_parts(span: Span, mapped: MappedSpan, common: dict[str, Any]) -> list[dict[str, Any]]:
    """Signed human sign-offs of the tool call, carried as `agentwatch.approval` span events (the GenAI
    conventions have no approval yet): actor in `user.email`, and `agentwatch.approval.summary`,
    `.signature` (base64 Ed25519 over the summary) and `.key_id`, as the native approval's attrs."""
    parts = []
    for i, event in enumerate(span.events):
        if event.name != APPROVAL_EVENT:
            continue
        ea = event.attributes
        signed = {field: ea.get(f"{APPROVAL_EVENT}.{field}") for field in ("summary", "signature", "key_id")}
        parts.append({**common, "event_type": "approval", "time_ns": event.time_ns, "source": f"event:{APPROVAL_EVENT}",
                      "actor": str_attr(ea, "user.email"), "top_attrs": signed})
        mapped.consumed_events.add(i)
    return parts


def spawn_parts(span: Span, ctx: SpanContext) -> list[dict[str, Any]]:
    """An agent_spawn when an ancestor in the request is an agent; else none (the parent is unknown)."""
    if ctx.parent_agent_id is None:
        return []
    parent_session = ctx.parent_session_id if ctx.parent_session_id != ctx.session_id else None
    return [{"event_type": "agent_spawn", "time_ns": span.start_ns, "source": "span",
             "parent_session_id": parent_session, "part": {"parent_agent_id": ctx.parent_agent_id}}]


def legacy_messages(span: Span, mapped: MappedSpan) -> tuple[list[Message], list[Message], list[Message]]:
    """Inputs and outputs from per-message span events (semconv up to v1.36, still widely emitted)."""
    inputs: list[Message] = []
    outputs: list[Message] = []
    for i, event in enumerate(span.events):
        if event.name in LEGACY_ROLES or event.name in LEGACY_OUTPUTS:
            message = _legacy_message(event, f"events[{i}]")
            (outputs if event.name in LEGACY_OUTPUTS else inputs).append(message)
            mapped.consumed_events.add(i)
    return inputs, outputs, []


def _legacy_message(event: SpanEvent, path: str) -> Message:
    body = _legacy_body(event, path)
    role = LEGACY_ROLES.get(event.name, "assistant")
    if event.name == "gen_ai.choice" and isinstance(body.get("message"), dict):
        body = {**{k: v for k, v in body.items() if k != "message"}, **body["message"]}
    raw = dict(body)
    if isinstance(body.get("role"), str):
        role = body.pop("role")
    parts = _legacy_parts(body, role, path)  # takes the fields it maps out of `body`
    return Message(role, parts, event.time_ns, f"event:{event.name}", path, body, raw=raw)


def _legacy_body(event: SpanEvent, path: str) -> dict[str, Any]:
    a = event.attributes
    if event.name in ("gen_ai.content.prompt", "gen_ai.content.completion"):
        key = "gen_ai.prompt" if event.name == "gen_ai.content.prompt" else "gen_ai.completion"
        return {"content": a.get(key), **{k: v for k, v in a.items() if k != key}}
    if "gen_ai.event.content" in a:  # some emitters put the event body in one JSON attribute
        body = json_value(a["gen_ai.event.content"], f"{path}.attributes['gen_ai.event.content']")
        if not isinstance(body, dict):
            raise RecordError(f"{path}.attributes['gen_ai.event.content']: expected object, got {json_kind(body)}")
        return {**{k: v for k, v in a.items() if k != "gen_ai.event.content"}, **body}
    return dict(a)


def _legacy_parts(body: dict[str, Any], role: str, path: str) -> list[dict[str, Any]]:
    content = body.pop("content", None)
    parts: list[dict[str, Any]] = []
    if role == "tool" and content is not None:
        parts.append({"type": "tool_call_response", "id": body.pop("id", None), "response": content})
    elif isinstance(content, str):
        parts.append({"type": "text", "content": content})
    elif isinstance(content, list):
        parts.extend(_content_item(item) for item in content)
    elif content is not None:
        parts.append({"type": "text", "content": as_text(content)})
    tool_calls = json_value(body.pop("tool_calls", None) or [], f"{path}.tool_calls")
    if not isinstance(tool_calls, list):
        raise RecordError(f"{path}.tool_calls: expected array, got {json_kind(tool_calls)}")
    parts.extend(_legacy_tool_call(call, f"{path}.tool_calls[{k}]") for k, call in enumerate(tool_calls))
    return parts


def _content_item(item: Any) -> dict[str, Any]:
    if isinstance(item, str):
        return {"type": "text", "content": item}
    if isinstance(item, dict) and isinstance(item.get("text"), str):
        return {"type": "text", "content": item["text"], **{k: v for k, v in item.items() if k not in ("type", "text")}}
    return {"type": "content", "value": item}


def _legacy_tool_call(call: Any, path: str) -> dict[str, Any]:
    if not isinstance(call, dict):
        raise RecordError(f"{path}: expected object, got {json_kind(call)}")
    function = call.get("function") or {}
    if not isinstance(function, dict):
        raise RecordError(f"{path}.function: expected object, got {json_kind(function)}")
    rest = {k: v for k, v in call.items() if k not in ("id", "function", "type")}
    return {"type": "tool_call", "id": call.get("id"), "name": function.get("name"),
            "arguments": function.get("arguments"), **rest}


def consume_identity(a: dict[str, Any], mapped: MappedSpan, agent_keys: tuple, session_keys: tuple) -> None:
    """Mark the attributes that gave the span's own agent and session as used."""
    for keys in (agent_keys, session_keys):
        key = first_str(a, keys)[0]
        if key is not None:
            mapped.consumed.add(key)


def consume_first(a: dict[str, Any], mapped: MappedSpan, keys: tuple[str, ...]) -> str | None:
    """The first of `keys` the span has as a string, marked as used."""
    key, value = first_str(a, keys)
    if key is not None:
        mapped.consumed.add(key)
    return value


GENAI = Convention(genai_identity, map_genai_span)
