"""OTLP/JSON traces per the OpenTelemetry GenAI semantic conventions, over the sample's session model.

One line per session tree: an `ExportTraceServiceRequest` (resourceSpans -> scopeSpans -> spans) as a
Collector file exporter writes it; ids are hex and `*UnixNano` times are strings (OTLP/JSON, not the
proto3 default mapping). Per session:

- `invoke_agent {agent}` (gen_ai.agent.id/name, gen_ai.conversation.id), spanning the session; the
  opening prompt is its `gen_ai.input.messages`. A sub-agent's invoke_agent span is a child of its
  parent's, in the same trace: that is how the conventions express delegation.
- `chat {model}` per model turn: a human's later prompt in `gen_ai.input.messages`, reasoning and text
  in `gen_ai.output.messages`, `gen_ai.usage.*`, model and provider; a provider error is an
  `exception` span event.
- `execute_tool {tool}` per tool call: `gen_ai.tool.call.arguments` (JSON text) and, when logged,
  `gen_ai.tool.call.result`; status ERROR when the tool failed.

The conventions have no attribute for a human approver or an approval: the human behind a prompt is
`user.email` on the span that carries it, and an approval is a span event `agentwatch.approval` on its
tool's span (approver, summary, signature, key_id).
"""

from __future__ import annotations

from typing import Any

import orjson

from agentwatch.sample.model import Session

INTERNAL, CLIENT = 1, 3
STATUS_OK, STATUS_ERROR = 1, 2
TURN_TYPES = frozenset({"reasoning", "llm_response", "error"})
SCOPE = {"name": "acme.agent-runtime", "version": "2.3.0"}


def encode_otlp(tree: Session) -> list[bytes]:
    """A session tree as one OTLP/JSON trace request line."""
    spans = [span for part in tree.walk() for span in session_spans(part, tree)]
    resource = {"attributes": _attrs({"service.name": tree.agent_id, "service.version": "2.3.0",
                                      "deployment.environment.name": "production"})}
    request = {"resourceSpans": [{"resource": resource, "scopeSpans": [{"scope": SCOPE, "spans": spans}]}]}
    return [orjson.dumps(request, option=orjson.OPT_APPEND_NEWLINE)]


def session_spans(session: Session, root: Session) -> list[dict[str, Any]]:
    """The spans of one session: its invoke_agent span, then one span per model turn or tool call."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for event in session.events:
        groups.setdefault(event["span_id"], []).append(event)
    prompts = groups.pop(session.root_span_id, [])
    spans = [_agent_span(session, root, prompts[:1])]
    pending = prompts[1:]
    previous_ts = session.events[0]["ts"]
    for events in groups.values():
        if events[0]["event_type"] == "agent_spawn":
            continue
        if events[0]["event_type"] in TURN_TYPES:
            waiting = [p for p in pending if p["ts"] <= events[-1]["ts"]]
            pending = [p for p in pending if p["ts"] > events[-1]["ts"]]
            spans.append(_chat_span(session, events, waiting, max([previous_ts] + [p["ts"] for p in waiting])))
        else:
            spans.append(_tool_span(session, events))
        previous_ts = events[-1]["ts"]
    return spans


def _agent_span(session: Session, root: Session, prompts: list[dict[str, Any]]) -> dict[str, Any]:
    agent = session.agent_id
    attrs = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.id": agent, "gen_ai.agent.name": agent,
             "gen_ai.conversation.id": session.session_id}
    attrs.update(_inputs(prompts))
    parent = _parent_root_span(session, root)
    start, end = session.events[0]["ts"], session.events[-1]["ts"]
    return _span(session, session.root_span_id, parent, f"invoke_agent {agent}", INTERNAL, start, end, attrs)


def _parent_root_span(session: Session, root: Session) -> str | None:
    for part in root.walk():
        if part.session_id == session.parent_session_id:
            return part.root_span_id
    return None


def _chat_span(session: Session, events: list[dict], prompts: list[dict], start: int) -> dict[str, Any]:
    response = next((e for e in events if e["event_type"] == "llm_response"), events[-1])
    model = response.get("model", "")
    attrs = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": _provider(model),
             "gen_ai.request.model": model, "gen_ai.response.model": model,
             "gen_ai.conversation.id": session.session_id}
    attrs.update(_inputs(prompts))
    parts = [{"type": "reasoning", "content": e["text"]} for e in events if e["event_type"] == "reasoning"]
    if response.get("text"):
        parts.append({"type": "text", "content": response["text"]})
    if parts:
        attrs["gen_ai.output.messages"] = orjson.dumps([{"role": "assistant", "parts": parts}]).decode()
    for key in ("input_tokens", "output_tokens"):
        if key in response:
            attrs[f"gen_ai.usage.{key}"] = response[key]
    span = _span(session, events[0]["span_id"], session.root_span_id, f"chat {model}", CLIENT, start,
                 response["ts"], attrs)
    span["events"] = [_event("exception", e["ts"], {"exception.type": "RateLimitError", "exception.message": e["text"]})
                      for e in events if e["event_type"] == "error"]
    return span


def _tool_span(session: Session, events: list[dict[str, Any]]) -> dict[str, Any]:
    call = events[0]
    attrs = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": call["tool_name"],
             "gen_ai.tool.call.id": call["tool_call_id"], "gen_ai.tool.type": "function",
             "gen_ai.tool.call.arguments": orjson.dumps(call["tool_args"]).decode(),
             "gen_ai.conversation.id": session.session_id}
    result = next((e for e in events if e["event_type"] == "tool_result"), None)
    if result is not None:
        attrs["gen_ai.tool.call.result"] = result["text"]
    span = _span(session, call["span_id"], session.root_span_id, f"execute_tool {call['tool_name']}", INTERNAL,
                 call["ts"], events[-1]["ts"], attrs)
    span["events"] = [_approval_event(e) for e in events if e["event_type"] == "approval"]
    if result is not None:
        failed = result.get("status") == "error"
        span["status"] = {"code": STATUS_ERROR, "message": result["text"][:200]} if failed else {"code": STATUS_OK}
    return span


def _approval_event(event: dict[str, Any]) -> dict[str, Any]:
    attrs = event["attrs"]
    return _event("agentwatch.approval", event["ts"], {
        "user.email": event["actor"], "agentwatch.approval.summary": attrs["summary"],
        "agentwatch.approval.signature": attrs["signature"], "agentwatch.approval.key_id": attrs["key_id"]})


def _inputs(prompts: list[dict[str, Any]]) -> dict[str, Any]:
    if not prompts:
        return {}
    messages = [{"role": "user", "parts": [{"type": "text", "content": p["text"]}]} for p in prompts]
    attrs: dict[str, Any] = {"gen_ai.input.messages": orjson.dumps(messages).decode()}
    humans = [p["actor"] for p in prompts if "actor" in p]
    if humans:
        attrs["user.email"] = humans[-1]
    return attrs


def _provider(model: str) -> str:
    return "anthropic" if model.startswith("claude") else "openai"


def _span(session: Session, span_id: str, parent: str | None, name: str, kind: int, start_ms: int, end_ms: int,
          attrs: dict[str, Any]) -> dict[str, Any]:
    span = {"traceId": session.trace_id, "spanId": span_id, "name": name, "kind": kind,
            "startTimeUnixNano": str(start_ms * 1_000_000), "endTimeUnixNano": str(end_ms * 1_000_000),
            "attributes": _attrs(attrs)}
    if parent is not None:
        span["parentSpanId"] = parent
    return span


def _event(name: str, ts_ms: int, attrs: dict[str, Any]) -> dict[str, Any]:
    return {"timeUnixNano": str(ts_ms * 1_000_000), "name": name, "attributes": _attrs(attrs)}


def _attrs(values: dict[str, Any]) -> list[dict[str, Any]]:
    """OTLP key/value attributes; ints are strings in OTLP/JSON."""
    return [{"key": key, "value": {"intValue": str(value)} if isinstance(value, int) else {"stringValue": value}}
            for key, value in values.items()]
