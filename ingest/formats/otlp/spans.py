"""From parsed OTLP spans to canonical events: what every semantic convention shares.

A convention (GenAI semconv in `genai_spans`, OpenInference in `openinference_spans`) says who a span
belongs to (`Identity`) and which events it is (`MappedSpan.parts`); this module completes them:

- event_id = "{trace_id}:{span_id}:{n}", n the event's index within its span (events sorted by time):
  the same span exported twice (a retried batch) gives the same ids, so ingest deduplicates it.
- seq = `seq_of(the event's time in microseconds, n)` (n capped at 999). One record never sees a whole
  session, so order comes from time: monotone within a session, ties broken within a span.
- agent_id: the span's own agent, else its nearest ancestor's within the same request, else the
  resource's `service.name`. session_id: the span's own, else the nearest ancestor's within the same
  request, else the trace id. attrs["identity"] says which was used: spans of one trace exported in
  different batches can resolve differently, and a later step can reconcile them by trace_id.
- model: the span's model on what the model produced (responses, reasoning, tool calls), never on its
  inputs (prompts, instructions, tool results).
- status: span status ERROR -> 'error', OK -> 'ok', UNSET -> null, on every event of the span.
- `exception` span events become `error` events.
- a span that no convention maps (an HTTP or database span, an embeddings call) becomes one event at
  its start whose type names what it was; `normalize_event` keeps it as `unknown` with that type in attrs: such spans
  are evidence (a DROP TABLE is a database span), so they are kept, not dropped.
- attrs: every span attribute not mapped to a column or an event, plus "span" (name, kind, times,
  status message, unmapped span events, links, other fields), "resource" (its attributes), "scope",
  "source" (where in the span the event came from) and "part" (the rest of the message part).

Policy for a malformed span: `decode_request` (files) quarantines the whole record, with the span's
path in the reason: a record is one export request and is kept or quarantined whole, so the ingest
counts stay exact. `decode_spans` reports each span on its own, for the receiver's partial success.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from agentwatch.errors import RecordError
from agentwatch.ingest.formats.otlp.common import (
    TRACES,
    RawItem,
    Span,
    all_or_error,
    item_event,
    iter_raw_items,
    parse_span,
)
from agentwatch.ingest.formats.otlp.values import service_name
from agentwatch.ingest.records import DecodedEvent

STATUS = {"ok": "ok", "error": "error"}
# attrs keys this module writes; a span attribute with one of these names is kept as "attribute:<name>".
RESERVED = frozenset({"span", "resource", "scope", "source", "part", "identity"})
# What the model was given rather than what it produced: the call's model is not theirs.
INPUT_TYPES = frozenset({"user_prompt", "system_prompt", "tool_result"})


@dataclass(frozen=True)
class Identity:
    """Who a span says it belongs to, from its own attributes only."""

    agent_id: str | None
    session_id: str | None
    is_agent: bool = False  # the span is an agent invocation (GenAI invoke_agent, OpenInference AGENT)


@dataclass(frozen=True)
class SpanContext:
    """A span's resolved identity and, for agent spans, the agent that spawned it."""

    agent_id: str
    session_id: str
    sources: dict[str, str]  # "agent"/"session" -> "span" | "ancestor" | "service.name" | "trace_id"
    parent_agent_id: str | None
    parent_session_id: str | None


@dataclass
class MappedSpan:
    """The events a convention made of one span, and what of the span they used."""

    parts: list[dict[str, Any]] = field(default_factory=list)  # event_type, time_ns, source, columns, part
    consumed: set[str] = field(default_factory=set)  # attribute keys now in columns or events
    consumed_events: set[int] = field(default_factory=set)  # indexes of span events now events
    model: str | None = None
    fallback_type: str = "span"  # event type when no part was made


@dataclass(frozen=True)
class Convention:
    """A semantic convention: a span's identity and its events."""

    identity: Callable[[Span], Identity]
    map_span: Callable[[Span, SpanContext], MappedSpan]


@dataclass(frozen=True)
class _Node:
    parent_span_id: str | None
    identity: Identity


def decode_request(record: Any, pick: Callable[[Span], Convention]) -> list[DecodedEvent]:
    """Every event of every span of one request; the first malformed span fails the record."""
    return all_or_error(decode_spans(record, pick))


def decode_spans(
    record: Any, pick: Callable[[Span], Convention]
) -> list[tuple[str, list[DecodedEvent] | RecordError]]:
    """Each span's events, or the error that rejects that span alone, keyed by the span's path."""
    parsed: list[tuple[RawItem, Span | RecordError, Identity | None]] = []
    index: dict[tuple[str, str], _Node] = {}
    for raw in iter_raw_items(record, TRACES):
        try:
            span = parse_span(raw)
            own = _at(span, pick(span).identity, span)
        except RecordError as exc:
            parsed.append((raw, exc, None))
            continue
        parsed.append((raw, span, own))
        index[(span.trace_id, span.span_id)] = _Node(span.parent_span_id, own)
    results: list[tuple[str, list[DecodedEvent] | RecordError]] = []
    for raw, span, own in parsed:
        if isinstance(span, RecordError):
            results.append((raw.path, span))
            continue
        try:
            results.append((raw.path, _span_events(span, own, index, pick(span))))
        except RecordError as exc:
            results.append((raw.path, exc))
    return results


def _span_events(span: Span, own: Identity, index: dict, convention: Convention) -> list[DecodedEvent]:
    ctx = _at(span, resolve_context, span, own, index)
    mapped = _at(span, convention.map_span, span, ctx)
    parts = mapped.parts or [{"event_type": mapped.fallback_type, "time_ns": span.start_ns, "source": "span"}]
    parts = parts + _exception_parts(span, mapped.consumed_events)
    parts.sort(key=lambda part: part["time_ns"])
    base = _base_attrs(span, mapped, ctx)
    return [_event(span, ctx, mapped, base, n, part) for n, part in enumerate(parts)]


def _at(span: Span, step: Callable[..., Any], *args: Any) -> Any:
    """Run one mapping step; its RecordError reason is prefixed with the span's path."""
    try:
        return step(*args)
    except RecordError as exc:
        raise RecordError(f"{span.path}.{exc.message}") from exc


def resolve_context(span: Span, own: Identity, index: dict[tuple[str, str], _Node]) -> SpanContext:
    """Fill what the span does not say from its ancestors within the request, then the resource."""
    chain = [own, *(node.identity for node in _ancestors(span, index))]
    service = service_name(span.resource)
    agent_id, agent_src = _first(chain, "agent_id", service, "service.name")
    session_id, session_src = _first(chain, "session_id", span.trace_id, "trace_id")
    if agent_id is None:
        raise RecordError("attributes: no agent identity on the span, its ancestors or resource service.name")
    spawner = next((k for k in range(1, len(chain)) if chain[k].is_agent), None)
    parent_agent = parent_session = None
    if spawner is not None:
        parent_agent = _first(chain[spawner:], "agent_id", service, "")[0]
        parent_session = _first(chain[spawner:], "session_id", span.trace_id, "")[0]
    return SpanContext(agent_id, session_id, {"agent": agent_src, "session": session_src},
                       parent_agent, parent_session)


def _ancestors(span: Span, index: dict[tuple[str, str], _Node]) -> Iterator[_Node]:
    seen = {span.span_id}
    parent = span.parent_span_id
    while parent and parent not in seen and (span.trace_id, parent) in index:
        seen.add(parent)
        node = index[(span.trace_id, parent)]
        yield node
        parent = node.parent_span_id


def _first(chain: list[Identity], name: str, default: str | None, default_src: str) -> tuple[str | None, str]:
    for depth, identity in enumerate(chain):
        value = getattr(identity, name)
        if value:
            return value, "span" if depth == 0 else "ancestor"
    return default, default_src


def _exception_parts(span: Span, consumed: set[int]) -> list[dict[str, Any]]:
    parts = []
    for i, event in enumerate(span.events):
        if event.name != "exception" or i in consumed:
            continue
        consumed.add(i)
        attrs = dict(event.attributes)
        kind, message = attrs.pop("exception.type", None), attrs.pop("exception.message", None)
        text = ": ".join(str(x) for x in (kind, message) if x is not None) or None
        parts.append({"event_type": "error", "time_ns": event.time_ns, "source": "event:exception",
                      "text": text, "status": "error", "part": attrs})
    return parts


def _base_attrs(span: Span, mapped: MappedSpan, ctx: SpanContext) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    for key, value in span.attributes.items():
        if key not in mapped.consumed:
            attrs[f"attribute:{key}" if key in RESERVED else key] = value
    meta: dict[str, Any] = {"name": span.name, "kind": span.kind, "start_time_unix_nano": span.start_ns,
                            "end_time_unix_nano": span.end_ns, "status_code": span.status_code}
    optional = {
        "status_message": span.status_message,
        "events": [_event_json(e) for i, e in enumerate(span.events) if i not in mapped.consumed_events],
        "links": list(span.links),
        "resource_fields": span.resource_extra,
    }
    meta.update({key: value for key, value in optional.items() if value})
    meta.update(span.extra)
    attrs.update(span=meta, resource=span.resource, scope=span.scope, identity=ctx.sources)
    return attrs


def _event_json(event: Any) -> dict[str, Any]:
    return {"name": event.name, "time_unix_nano": event.time_ns, "attributes": event.attributes, **event.extra}


def _event(span: Span, ctx: SpanContext, mapped: MappedSpan, base: dict[str, Any], n: int,
           part: dict[str, Any]) -> DecodedEvent:
    part = dict(part)
    time_ns = part.pop("time_ns")
    attrs = dict(base)
    attrs["source"] = part.pop("source")
    extras = part.pop("part", None)
    if extras:
        attrs["part"] = extras
    attrs.update(part.pop("top_attrs", {}))
    columns = {
        "event_id": f"{span.trace_id}:{span.span_id}:{n}",
        "agent_id": ctx.agent_id,
        "session_id": ctx.session_id,
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "parent_span_id": span.parent_span_id,
        "model": None if part.get("event_type") in INPUT_TYPES else mapped.model,
        "status": STATUS.get(span.status_code),
    }
    return item_event(time_ns, n, columns | part, attrs)
