"""The OTLP/JSON envelope of both signals: traces (`otlp_json`, `openinference`) and logs (`otlp_logs`).

One record is one export request (resourceSpans -> scopeSpans -> spans, or resourceLogs -> scopeLogs
-> logRecords), as an OpenTelemetry Collector file exporter writes it, one per line. Field names are
lowerCamelCase; unknown fields are kept. Values are read by `otlp_values` (hex ids, int64 as text).

This module walks and filters requests, parses spans into `Span` values (naming the JSON path of
whatever it cannot parse) and builds the events of an item. Which events a span becomes is the
business of `otlp_spans` and the conventions; a log record's, of `otlp_logs`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from agentwatch.errors import RecordError
from agentwatch.ingest.formats.fields import load_object
from agentwatch.ingest.formats.otlp.values import (
    array_field,
    decode_attributes,
    enum_name,
    hex_id,
    require_object,
    rest_of,
    unix_nanos,
)
from agentwatch.ingest.records import (
    DecodedEvent,
    check_str,
    json_kind,
    seq_of,
    time_of_nanos,
)

SPAN_KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
STATUS_CODES = ("unset", "ok", "error")
# Span fields parsed into `Span` attributes; any other field is kept verbatim in `Span.extra`.
SPAN_FIELDS = frozenset(
    {"traceId", "spanId", "parentSpanId", "name", "kind", "startTimeUnixNano", "endTimeUnixNano",
     "attributes", "events", "links", "status"}
)


@dataclass(frozen=True)
class SpanEvent:
    """A timed annotation on a span (`Span.Event`)."""

    name: str
    time_ns: int
    attributes: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Span:
    """One span with its resource and scope, every value decoded from AnyValue to plain JSON."""

    path: str  # e.g. "resourceSpans[0].scopeSpans[1].spans[2]": where a reason points
    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    start_ns: int
    end_ns: int
    status_code: str
    status_message: str | None
    attributes: dict[str, Any]
    events: tuple[SpanEvent, ...]
    links: tuple[dict[str, Any], ...]
    extra: dict[str, Any]  # span fields this module does not parse (flags, traceState, dropped counts...)
    resource: dict[str, Any]  # resource attributes
    resource_extra: dict[str, Any]  # schemaUrl, droppedAttributesCount, ...
    scope: dict[str, Any]  # name, version, attributes, schema_url


def may_spell(raw: bytes, name: str) -> bool:
    """Whether raw JSON text could hold the key or string `name` (letters, digits, dots, underscores):
    it holds it literally, or a \\u escape could spell it. False proves it absent without a parse."""
    return name.encode() in raw or b"\\u" in raw


def load_envelope(first_record: bytes, envelope: Envelope) -> dict[str, Any] | None:
    """The record as a request of the envelope's signal when it looks like one (for sniffing), else None."""
    if not may_spell(first_record, envelope.resources):  # most files: no parse needed to tell
        return None
    obj = load_object(first_record)
    return obj if obj is not None and isinstance(obj.get(envelope.resources), list) else None


def has_span_attribute(envelope: dict[str, Any], key: str) -> bool:
    """Whether any span of a (raw) request carries the attribute `key`."""
    for resource_spans in _dicts(envelope.get("resourceSpans")):
        for scope_spans in _dicts(resource_spans.get("scopeSpans")):
            for span in _dicts(scope_spans.get("spans")):
                if any(isinstance(kv, dict) and kv.get("key") == key for kv in _list(span.get("attributes"))):
                    return True
    return False


def _dicts(value: Any) -> Iterator[dict[str, Any]]:
    return (item for item in _list(value) if isinstance(item, dict))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


@dataclass(frozen=True)
class Envelope:
    """How one signal's export request nests its items: resources -> scopes -> items."""

    signal: str  # as reasons name the request: "trace", "logs"
    resources: str
    scopes: str
    items: str

    def path(self, ri: int, si: int, ii: int) -> str:
        """The JSON path of an item within its request, as reasons and `filter_items` name it."""
        return f"{self.resources}[{ri}].{self.scopes}[{si}].{self.items}[{ii}]"


TRACES = Envelope("trace", "resourceSpans", "scopeSpans", "spans")
LOGS = Envelope("logs", "resourceLogs", "scopeLogs", "logRecords")


@dataclass(frozen=True)
class RawItem:
    """An item (span, log record) still in JSON, with the decoded resource and scope it belongs to."""

    path: str
    data: Any
    resource: dict[str, Any]
    resource_extra: dict[str, Any]
    scope: dict[str, Any]


def filter_items(
    envelope: Envelope, record: dict[str, Any], keep: Callable[[str], bool]
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """A copy of a (walkable) request with only the items whose path `keep` accepts (None if none),
    and the original path of each item kept, by its path in the copy."""
    resources: list[dict[str, Any]] = []
    origin: dict[str, str] = {}
    for ri, resource in enumerate(record.get(envelope.resources) or []):
        scopes: list[dict[str, Any]] = []
        for si, scope in enumerate(resource.get(envelope.scopes) or []):
            items = []
            for ii, item in enumerate(scope.get(envelope.items) or []):
                if keep(envelope.path(ri, si, ii)):
                    origin[envelope.path(len(resources), len(scopes), len(items))] = envelope.path(ri, si, ii)
                    items.append(item)
            if items:
                scopes.append({**scope, envelope.items: items})
        if scopes:
            resources.append({**resource, envelope.scopes: scopes})
    return ({**record, envelope.resources: resources} if resources else None), origin


def iter_raw_items(record: Any, envelope: Envelope) -> Iterator[RawItem]:
    """Walk the envelope; a malformed resource or scope is an error of the whole record."""
    if not isinstance(record, dict):
        raise RecordError(f"expected an OTLP {envelope.signal} request object, got {json_kind(record)}")
    if envelope.resources not in record:  # a record that holds no request is not an empty request
        raise RecordError(f"not an OTLP {envelope.signal} export request: no `{envelope.resources}`")
    for ri, resource_items in enumerate(array_field(record, envelope.resources, "")):
        rpath = f"{envelope.resources}[{ri}]"
        require_object(resource_items, rpath)
        resource_obj = resource_items.get("resource") or {}
        require_object(resource_obj, f"{rpath}.resource")
        resource = decode_attributes(resource_obj.get("attributes"), f"{rpath}.resource.attributes")
        resource_extra = rest_of(resource_obj, {"attributes"}) | rest_of(resource_items, {"resource", envelope.scopes})
        for si, scope_items in enumerate(array_field(resource_items, envelope.scopes, rpath)):
            spath = f"{rpath}.{envelope.scopes}[{si}]"
            require_object(scope_items, spath)
            scope = _decode_scope(scope_items, spath)
            for ii, data in enumerate(array_field(scope_items, envelope.items, spath)):
                yield RawItem(envelope.path(ri, si, ii), data, resource, resource_extra, scope)


def _decode_scope(scope_items: dict[str, Any], path: str) -> dict[str, Any]:
    scope_obj = scope_items.get("scope") or {}
    require_object(scope_obj, f"{path}.scope")
    scope = rest_of(scope_obj, {"attributes"})
    if "attributes" in scope_obj:
        scope["attributes"] = decode_attributes(scope_obj["attributes"], f"{path}.scope.attributes")
    if "schemaUrl" in scope_items:
        scope["schemaUrl"] = scope_items["schemaUrl"]
    return scope


def parse_span(raw: RawItem) -> Span:
    """Decode one span's JSON; the reason of a RecordError starts with the span's path."""
    data, path = raw.data, raw.path
    require_object(data, path)
    status = data.get("status") or {}
    require_object(status, f"{path}.status")
    start_ns = unix_nanos(data.get("startTimeUnixNano"), f"{path}.startTimeUnixNano", required=True)
    end_ns = unix_nanos(data.get("endTimeUnixNano"), f"{path}.endTimeUnixNano", required=False)
    return Span(
        path=path,
        trace_id=hex_id(data.get("traceId"), f"{path}.traceId", 16, required=True),
        span_id=hex_id(data.get("spanId"), f"{path}.spanId", 8, required=True),
        parent_span_id=hex_id(data.get("parentSpanId"), f"{path}.parentSpanId", 8, required=False),
        name=check_str(data.get("name"), f"{path}.name") or "",
        kind=enum_name(data.get("kind"), SPAN_KINDS, "SPAN_KIND_", f"{path}.kind"),
        start_ns=start_ns,
        end_ns=end_ns or start_ns,
        status_code=enum_name(status.get("code"), STATUS_CODES, "STATUS_CODE_", f"{path}.status.code"),
        status_message=check_str(status.get("message"), f"{path}.status.message") or None,
        attributes=decode_attributes(data.get("attributes"), f"{path}.attributes"),
        events=tuple(_decode_event(e, f"{path}.events[{i}]") for i, e in enumerate(array_field(data, "events", path))),
        links=tuple(_decode_link(k, f"{path}.links[{i}]") for i, k in enumerate(array_field(data, "links", path))),
        extra=rest_of(data, SPAN_FIELDS) | rest_of(status, {"code", "message"}, prefix="status."),
        resource=raw.resource,
        resource_extra=raw.resource_extra,
        scope=raw.scope,
    )


def _decode_event(data: Any, path: str) -> SpanEvent:
    require_object(data, path)
    return SpanEvent(
        name=check_str(data.get("name"), f"{path}.name") or "",
        time_ns=unix_nanos(data.get("timeUnixNano"), f"{path}.timeUnixNano", required=True),
        attributes=decode_attributes(data.get("attributes"), f"{path}.attributes"),
        extra=rest_of(data, {"name", "timeUnixNano", "attributes"}),
    )


def _decode_link(data: Any, path: str) -> dict[str, Any]:
    require_object(data, path)
    link = rest_of(data, {"traceId", "spanId", "attributes"})
    link["traceId"] = hex_id(data.get("traceId"), f"{path}.traceId", 16, required=True)
    link["spanId"] = hex_id(data.get("spanId"), f"{path}.spanId", 8, required=True)
    link["attributes"] = decode_attributes(data.get("attributes"), f"{path}.attributes")
    return link


def item_event(time_ns: int, n: int, columns: dict[str, Any], attrs: dict[str, Any]) -> DecodedEvent:
    """The `n`-th event of an OTLP item (span, log record), at `time_ns`: seq orders by time, then n."""
    timed = {"ts": time_of_nanos(time_ns), "seq": seq_of(time_ns // 1000, n)}
    return DecodedEvent.of({**columns, **timed, "attrs": attrs})


def all_or_error(results: list[tuple[str, list[DecodedEvent] | RecordError]]) -> list[DecodedEvent]:
    """Every item's events in order; the first item's error fails the whole record (a file's record is
    kept or quarantined whole, so ingest counts stay exact)."""
    events: list[DecodedEvent] = []
    for _, result in results:
        if isinstance(result, RecordError):
            raise result
        events.extend(result)
    return events
