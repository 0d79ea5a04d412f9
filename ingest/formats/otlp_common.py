"""The OTLP/JSON trace envelope, shared by the `otlp_json` and `openinference` formats.

One record is one `ExportTraceServiceRequest` in the OTLP/JSON encoding (resourceSpans -> scopeSpans
-> spans), as an OpenTelemetry Collector file exporter writes it, one per line. That encoding differs
from proto3's default JSON mapping (OTLP spec, "JSON Protobuf Encoding"): traceId/spanId are hex
strings, not base64; 64-bit integers and `*UnixNano` values may arrive as strings or numbers; enums
are integers (their names are accepted too). Field names are lowerCamelCase; unknown fields are kept.

This module only parses: it turns a record into `Span` values, naming the JSON path of whatever it
cannot parse. Which events a span becomes is the business of `otlp_spans` and the conventions.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from agentwatch.errors import RecordError
from agentwatch.ingest.formats.fields import load_object
from agentwatch.ingest.records import (
    MAX_INT64,
    MAX_SEQ_POSITION,
    MIN_INT64,
    DecodedEvent,
    check_str,
    json_kind,
    seq_of,
    time_of_nanos,
)

MAX_ANY_DEPTH = 64  # deeper AnyValue nesting is hostile, not telemetry
MAX_NANOS = MAX_SEQ_POSITION * 1000 + 999  # seq folds the time in µs: every seq of it must fit int64
_HEX = re.compile(r"^[0-9a-fA-F]*$")
_INT = re.compile(r"^-?[0-9]+$")
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


def load_envelope(first_record: bytes, envelope: Envelope) -> dict[str, Any] | None:
    """The record as a request of the envelope's signal when it looks like one (for sniffing), else None."""
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
        kind=_enum(data.get("kind"), SPAN_KINDS, "SPAN_KIND_", f"{path}.kind"),
        start_ns=start_ns,
        end_ns=end_ns or start_ns,
        status_code=_enum(status.get("code"), STATUS_CODES, "STATUS_CODE_", f"{path}.status.code"),
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


def decode_attributes(items: Any, path: str) -> dict[str, Any]:
    """A KeyValue list as a dict; a repeated key keeps its last value."""
    if items is None:
        return {}
    return _decode_kvlist(items, path, path, 0)


def _decode_kvlist(items: Any, path: str, items_path: str, depth: int) -> dict[str, Any]:
    """KeyValue pairs (attributes, or a kvlistValue's values) as a dict; a repeated key keeps its last value."""
    if not isinstance(items, list):
        raise RecordError(f"{items_path}: expected array, got {json_kind(items)}")
    out: dict[str, Any] = {}
    for i, kv in enumerate(items):
        require_object(kv, f"{items_path}[{i}]")
        key = kv.get("key")
        if not isinstance(key, str):
            raise RecordError(f"{items_path}[{i}].key: expected string, got {json_kind(key)}")
        out[key] = decode_any(kv.get("value"), f"{path}[{key!r}]", depth)
    return out


def decode_any(value: Any, path: str, depth: int = 0) -> Any:
    """An OTLP AnyValue as plain JSON; bytes stay base64 text, an empty AnyValue is null."""
    if depth > MAX_ANY_DEPTH:
        raise RecordError(f"{path}: AnyValue nested deeper than {MAX_ANY_DEPTH} levels")
    if value is None:
        return None
    require_object(value, path)
    if len(value) > 1:
        raise RecordError(f"{path}: AnyValue with more than one kind: {', '.join(sorted(value))}")
    if not value:
        return None
    kind, inner = next(iter(value.items()))
    decoder = _ANY_DECODERS.get(kind)
    if decoder is None:
        return dict(value)  # a kind newer than this decoder: kept verbatim rather than lost
    return decoder(inner, f"{path}.{kind}", depth)


def _any_string(inner: Any, path: str, depth: int) -> str:
    if not isinstance(inner, str):
        raise RecordError(f"{path}: expected string, got {json_kind(inner)}")
    return inner


def _any_bool(inner: Any, path: str, depth: int) -> bool:
    if not isinstance(inner, bool):
        raise RecordError(f"{path}: expected boolean, got {json_kind(inner)}")
    return inner


def _any_int(inner: Any, path: str, depth: int) -> int:
    return int64(inner, path)


def _any_double(inner: Any, path: str, depth: int) -> float | None:
    if isinstance(inner, str) and inner in ("NaN", "Infinity", "-Infinity"):
        return None  # proto3 JSON spells non-finite doubles as strings; JSON has no such number
    if isinstance(inner, bool) or not isinstance(inner, (int, float)):
        raise RecordError(f"{path}: expected number, got {json_kind(inner)}")
    return None if isinstance(inner, float) and not math.isfinite(inner) else float(inner)


def _any_bytes(inner: Any, path: str, depth: int) -> str:
    if not isinstance(inner, str):
        raise RecordError(f"{path}: expected base64 string, got {json_kind(inner)}")
    try:
        base64.b64decode(inner, validate=True)
    except binascii.Error as exc:
        raise RecordError(f"{path}: not valid base64 ({exc})") from exc
    return inner


def _any_array(inner: Any, path: str, depth: int) -> list[Any]:
    require_object(inner, path)
    values = inner.get("values") or []
    if not isinstance(values, list):
        raise RecordError(f"{path}.values: expected array, got {json_kind(values)}")
    return [decode_any(v, f"{path}.values[{i}]", depth + 1) for i, v in enumerate(values)]


def _any_kvlist(inner: Any, path: str, depth: int) -> dict[str, Any]:
    require_object(inner, path)
    return _decode_kvlist(inner.get("values") or [], path, f"{path}.values", depth + 1)


_ANY_DECODERS = {
    "stringValue": _any_string,
    "boolValue": _any_bool,
    "intValue": _any_int,
    "doubleValue": _any_double,
    "bytesValue": _any_bytes,
    "arrayValue": _any_array,
    "kvlistValue": _any_kvlist,
}


def int64(value: Any, path: str) -> int:
    """A protobuf int64 from OTLP/JSON: a decimal string or a JSON number without fraction."""
    if isinstance(value, str) and _INT.match(value):
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        shown = repr(value[:40]) if isinstance(value, str) else json_kind(value)
        raise RecordError(f"{path}: expected integer, got {shown}")
    if not MIN_INT64 <= number <= MAX_INT64:
        raise RecordError(f"{path}: integer {number} is outside 64-bit range")
    return number


def unix_nanos(value: Any, path: str, *, required: bool) -> int:
    """A `*UnixNano` timestamp; 0 or absent means unset."""
    nanos = 0 if value is None else int64(value, path)
    if nanos < 0 or nanos > MAX_NANOS:
        raise RecordError(f"{path}: {nanos} is outside 1970..2262")
    if required and nanos == 0:
        raise RecordError(f"{path}: missing")
    return nanos


def hex_id(value: Any, path: str, nbytes: int, *, required: bool) -> str | None:
    """A trace or span id: OTLP/JSON writes ids as hex (not base64, unlike proto3's JSON mapping)."""
    if value is None or value == "":
        if required:
            raise RecordError(f"{path}: missing")
        return None
    if not isinstance(value, str):
        raise RecordError(f"{path}: expected hex string, got {json_kind(value)}")
    if len(value) != 2 * nbytes or not _HEX.match(value):
        raise RecordError(f"{path}: expected {2 * nbytes} hex digits, got {value[:48]!r}")
    if value.strip("0") == "":
        raise RecordError(f"{path}: all-zero id is invalid")
    return value.lower()


def _enum(value: Any, names: tuple[str, ...], prefix: str, path: str) -> str:
    """An enum given as integer or name; an unknown value becomes 'unknown', never a crash."""
    if value is None:
        return names[0]
    if isinstance(value, str):
        short = value.removeprefix(prefix).lower()
        return short if short in names else "unknown"
    if isinstance(value, int) and not isinstance(value, bool):
        return names[value] if 0 <= value < len(names) else "unknown"
    raise RecordError(f"{path}: expected integer enum, got {json_kind(value)}")


def array_field(obj: dict[str, Any], key: str, path: str) -> list[Any]:
    """The array at `key` (empty when absent or null); another kind is rejected."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        where = f"{path}.{key}" if path else key
        raise RecordError(f"{where}: expected array, got {json_kind(value)}")
    return value


def require_object(value: Any, path: str) -> None:
    """Reject a value that is not a JSON object, naming its path."""
    if not isinstance(value, dict):
        raise RecordError(f"{path}: expected object, got {json_kind(value)}")


def rest_of(obj: dict[str, Any], known: set[str] | frozenset[str], prefix: str = "") -> dict[str, Any]:
    """The fields of `obj` not in `known` (kept verbatim), their names prefixed."""
    return {f"{prefix}{key}": value for key, value in obj.items() if key not in known}


def str_attr(a: dict[str, Any], key: str) -> str | None:
    """A string attribute; another kind is rejected, never coerced."""
    return check_str(a.get(key), f"attributes[{key!r}]")


def first_str(a: dict[str, Any], keys: tuple[str, ...]) -> tuple[str | None, str | None]:
    """The first non-empty string attribute among `keys`, and its key."""
    for key in keys:
        value = str_attr(a, key)
        if value:
            return key, value
    return None, None


def int_attr(a: dict[str, Any], key: str) -> int | None:
    """An integer attribute (intValue); another kind is rejected, never coerced."""
    value = a.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise RecordError(f"attributes[{key!r}]: expected integer, got {json_kind(value)}")
    return value


def service_name(resource: dict[str, Any]) -> str | None:
    """The resource's `service.name` when it is a non-empty string: the agent of last resort."""
    service = resource.get("service.name")
    return service if isinstance(service, str) and service else None


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
