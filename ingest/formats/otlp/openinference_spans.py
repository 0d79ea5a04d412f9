"""The OpenInference conventions (Arize Phoenix): which events one span is.

By `openinference.span.kind`:
- `LLM`: messages from the flattened `llm.input_messages.N.message.*` / `llm.output_messages.N.message.*`
  (role, content, contents.M.message_content.*, tool_calls.M.tool_call.*, tool_call_id), or the
  completions API's `llm.prompts.N.prompt.text` / `llm.choices.N.completion.text`; they become events
  as GenAI messages do (`genai_messages`: only what is new in the call). One llm_response carries
  `llm.token_count.prompt` / `llm.token_count.completion`.
- `TOOL`: a tool_call at the start (`tool.name`; id from `tool.id` or `tool_call.id`; arguments from
  `tool_call.function.arguments`, else `input.value`, else `tool.parameters`) and a tool_result at the
  end (`output.value`).
- `AGENT`: an agent_spawn when an ancestor span in the same request is an AGENT, else the run's
  start: a `system_prompt` without text.
- any other kind (CHAIN, RETRIEVER, EMBEDDING, ...): one event of that kind, kept as `unknown`.
Identity: `agent.name`; session: `session.id`; `user.id` is the actor of user prompts (and stays in
attrs). Model: `llm.model_name`, else `llm.response.model_name`, else `llm.request.model_name`.
"""

from __future__ import annotations

from typing import Any

from agentwatch.errors import RecordError
from agentwatch.ingest.formats.otlp.common import Span
from agentwatch.ingest.formats.otlp.genai_messages import Message, conversation_parts, str_at
from agentwatch.ingest.formats.otlp.genai_spans import add_call_parts, consume_first, consume_identity, spawn_parts
from agentwatch.ingest.formats.otlp.spans import Convention, Identity, MappedSpan, SpanContext
from agentwatch.ingest.formats.otlp.values import first_str, str_attr

KIND_KEY = "openinference.span.kind"
AGENT_KEYS = ("agent.name",)
SESSION_KEYS = ("session.id",)
MODEL_KEYS = ("llm.model_name", "llm.response.model_name", "llm.request.model_name")
TOKEN_KEYS = {"input_tokens": "llm.token_count.prompt", "output_tokens": "llm.token_count.completion"}
TOOL_ID_KEYS = ("tool.id", "tool_call.id")
TOOL_ARGS_KEYS = ("tool_call.function.arguments", "input.value", "tool.parameters")


def span_kind(span: Span) -> str:
    """The OpenInference span kind, upper-cased ('' when absent)."""
    return (str_attr(span.attributes, KIND_KEY) or "").upper()


def openinference_identity(span: Span) -> Identity:
    """Agent and session as the span states them."""
    a = span.attributes
    return Identity(first_str(a, AGENT_KEYS)[1], first_str(a, SESSION_KEYS)[1], span_kind(span) == "AGENT")


def map_openinference_span(span: Span, ctx: SpanContext) -> MappedSpan:
    """The events of one span by its OpenInference kind."""
    kind = span_kind(span)
    mapped = MappedSpan(fallback_type=kind.lower() or "span")
    consume_identity(span.attributes, mapped, AGENT_KEYS, SESSION_KEYS)
    mapped.model = consume_first(span.attributes, mapped, MODEL_KEYS)
    if kind == "LLM":
        _map_llm(span, mapped)
    elif kind == "TOOL":
        _map_tool(span, mapped)
    elif kind == "AGENT":
        mapped.fallback_type = "system_prompt"  # a root agent span is the run's start
        mapped.parts.extend(spawn_parts(span, ctx))
    return mapped


def _map_llm(span: Span, mapped: MappedSpan) -> None:
    a = span.attributes
    inputs = _messages(a, "llm.input_messages", span.start_ns, mapped)
    inputs += _texts(a, "llm.prompts", "prompt.text", "user", span.start_ns, mapped)
    outputs = _messages(a, "llm.output_messages", span.end_ns, mapped)
    outputs += _texts(a, "llm.choices", "completion.text", "assistant", span.end_ns, mapped)
    parts, history = conversation_parts(inputs, outputs, [])
    actor = str_attr(a, "user.id")
    for part in parts:
        if part["event_type"] == "user_prompt":
            part["actor"] = actor
    add_call_parts(span, mapped, parts, history, TOKEN_KEYS)


def _map_tool(span: Span, mapped: MappedSpan) -> None:
    a = span.attributes
    name = consume_first(a, mapped, ("tool.name",))
    common = {"tool_name": name, "tool_call_id": consume_first(a, mapped, TOOL_ID_KEYS), "source": "span"}
    args = consume_first(a, mapped, TOOL_ARGS_KEYS)
    result = consume_first(a, mapped, ("output.value",))
    mapped.parts.append({**common, "event_type": "tool_call", "time_ns": span.start_ns, "tool_args": args})
    mapped.parts.append({**common, "event_type": "tool_result", "time_ns": span.end_ns, "text": result})


def indexed(a: dict[str, Any], prefix: str, used: set[str]) -> list[tuple[int, dict[str, Any]]]:
    """Flattened list attributes (`prefix.N.rest`) as (N, {rest: value}), by N; their keys go to `used`."""
    items: dict[int, dict[str, Any]] = {}
    for key, value in a.items():
        if not key.startswith(prefix + "."):
            continue
        number, _, rest = key[len(prefix) + 1 :].partition(".")
        if number.isdigit() and rest:
            items.setdefault(int(number), {})[rest] = value
            used.add(key)
    return sorted(items.items())


def _messages(a: dict[str, Any], prefix: str, time_ns: int, mapped: MappedSpan) -> list[Message]:
    return [
        _message(flat, f"attributes['{prefix}.{n}']", time_ns, prefix)
        for n, flat in indexed(a, prefix, mapped.consumed)
    ]


def _texts(a: dict[str, Any], prefix: str, key: str, role: str, time_ns: int, mapped: MappedSpan) -> list[Message]:
    messages = []
    for n, flat in indexed(a, prefix, mapped.consumed):
        path = f"attributes['{prefix}.{n}']"
        text = str_at(flat, key, path)
        extras = {k: v for k, v in flat.items() if k != key}
        messages.append(Message(role, [{"type": "text", "content": text}], time_ns, prefix, path, extras, flat))
    return messages


def _message(flat: dict[str, Any], path: str, time_ns: int, source: str) -> Message:
    """An OpenInference message in the GenAI shape: {role, parts}."""
    role = str_at(flat, "message.role", path)
    if role is None:
        raise RecordError(f"{path}.message.role: missing")
    used = {"message.role"}
    parts = _content_parts(flat, role, path, used)
    for _, call in indexed(flat, "message.tool_calls", used):
        parts.append({"type": "tool_call", "id": call.get("tool_call.id"),
                      "name": call.get("tool_call.function.name"),
                      "arguments": call.get("tool_call.function.arguments")})
    if "message.function_call_name" in flat:
        used.update(("message.function_call_name", "message.function_call_arguments_json"))
        parts.append({"type": "tool_call", "name": flat["message.function_call_name"],
                      "arguments": flat.get("message.function_call_arguments_json")})
    extras = {key: value for key, value in flat.items() if key not in used}
    return Message(role, parts, time_ns, source, path, extras, raw=flat)


def _content_parts(flat: dict[str, Any], role: str, path: str, used: set[str]) -> list[dict[str, Any]]:
    content = str_at(flat, "message.content", path)
    parts: list[dict[str, Any]] = []
    if content is not None:
        used.add("message.content")
        if role.lower() in ("tool", "function"):
            used.add("message.tool_call_id")
            parts.append({"type": "tool_call_response", "id": flat.get("message.tool_call_id"), "response": content})
        else:
            parts.append({"type": "text", "content": content})
    for _, item in indexed(flat, "message.contents", used):
        kind = item.get("message_content.type") or "text"
        rest = {k: v for k, v in item.items() if k not in ("message_content.type", "message_content.text")}
        if kind in ("text", "reasoning"):
            parts.append({"type": kind, "content": item.get("message_content.text"), **rest})
        else:
            parts.append({"type": kind, **rest})
    return parts


OPENINFERENCE = Convention(openinference_identity, map_openinference_span)
