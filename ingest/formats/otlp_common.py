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

import orjson

from agentwatch.errors import RecordError
from agentwatch.ingest.records import MAX_INT64, MIN_INT64, json_kind

MAX_ANY_DEPTH = 64  # deeper AnyValue nesting is hostile, not telemetry
MAX_NANOS = MAX_INT64  # seq is derived from nanoseconds and must stay within int64
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


def load_envelope(first_record: bytes) -> dict[str, Any] | None:
    """The record as a trace request when it looks like one (for sniffing), else None."""
    try:
        obj = orjson.loads(first_record.lstrip(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError:
        return None
    if isinstance(obj, dict) and isinstance(obj.get("resourceSpans"), list):
        return obj
    return None


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
class RawSpan:
    """A span still in JSON, with the decoded resource and scope it belongs to."""

    path: str
    data: Any
    resource: dict[str, Any]
    resource_extra: dict[str, Any]
    scope: dict[str, Any]


def span_path(ri: int, si: int, pi: int) -> str:
    """The JSON path of a span within its request, as reasons and `filter_spans` name it."""
    return f"resourceSpans[{ri}].scopeSpans[{si}].spans[{pi}]"


def filter_spans(
    record: dict[str, Any], keep: Callable[[str], bool]
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """A copy of a (walkable) request with only the spans whose path `keep` accepts (None if none),
    and the original path of each span kept, by its path in the copy."""
    resource_spans: list[dict[str, Any]] = []
    origin: dict[str, str] = {}
    for ri, rs in enumerate(record.get("resourceSpans") or []):
        scope_spans: list[dict[str, Any]] = []
        for si, ss in enumerate(rs.get("scopeSpans") or []):
            spans = []
            for pi, span in enumerate(ss.get("spans") or []):
                if keep(span_path(ri, si, pi)):
                    origin[span_path(len(resource_spans), len(scope_spans), len(spans))] = span_path(ri, si, pi)
                    spans.append(span)
            if spans:
                scope_spans.append({**ss, "spans": spans})
        if scope_spans:
            resource_spans.append({**rs, "scopeSpans": scope_spans})
    return ({**record, "resourceSpans": resource_spans} if resource_spans else None), origin


def iter_raw_spans(record: Any) -> Iterator[RawSpan]:
    """Walk the envelope; a malformed resource or scope is an error of the whole record."""
    if not isinstance(record, dict):
        raise RecordError(f"expected an OTLP trace request object, got {json_kind(record)}")
    if "resourceSpans" not in record:  # a record that holds no request is not an empty request
        raise RecordError("not an OTLP trace export request: no `resourceSpans`")
    for ri, resource_spans in enumerate(_array(record, "resourceSpans", "")):
        rpath = f"resourceSpans[{ri}]"
        _require_object(resource_spans, rpath)
        resource_obj = resource_spans.get("resource") or {}
        _require_object(resource_obj, f"{rpath}.resource")
        resource = decode_attributes(resource_obj.get("attributes"), f"{rpath}.resource.attributes")
        resource_extra = _rest(resource_obj, {"attributes"}) | _rest(resource_spans, {"resource", "scopeSpans"})
        for si, scope_spans in enumerate(_array(resource_spans, "scopeSpans", rpath)):
            spath = f"{rpath}.scopeSpans[{si}]"
            _require_object(scope_spans, spath)
            scope = _decode_scope(scope_spans, spath)
            for pi, data in enumerate(_array(scope_spans, "spans", spath)):
                yield RawSpan(span_path(ri, si, pi), data, resource, resource_extra, scope)


def _decode_scope(scope_spans: dict[str, Any], path: str) -> dict[str, Any]:
    scope_obj = scope_spans.get("scope") or {}
    _require_object(scope_obj, f"{path}.scope")
    scope = _rest(scope_obj, {"attributes"})
    if "attributes" in scope_obj:
        scope["attributes"] = decode_attributes(scope_obj["attributes"], f"{path}.scope.attributes")
    if "schemaUrl" in scope_spans:
        scope["schemaUrl"] = scope_spans["schemaUrl"]
    return scope


def parse_span(raw: RawSpan) -> Span:
    """Decode one span's JSON; the reason of a RecordError starts with the span's path."""
    data, path = raw.data, raw.path
    _require_object(data, path)
    status = data.get("status") or {}
    _require_object(status, f"{path}.status")
    start_ns = unix_nanos(data.get("startTimeUnixNano"), f"{path}.startTimeUnixNano", required=True)
    end_ns = unix_nanos(data.get("endTimeUnixNano"), f"{path}.endTimeUnixNano", required=False)
    return Span(
        path=path,
        trace_id=hex_id(data.get("traceId"), f"{path}.traceId", 16, required=True),
        span_id=hex_id(data.get("spanId"), f"{path}.spanId", 8, required=True),
        parent_span_id=hex_id(data.get("parentSpanId"), f"{path}.parentSpanId", 8, required=False),
        name=_string(data.get("name"), f"{path}.name") or "",
        kind=_enum(data.get("kind"), SPAN_KINDS, "SPAN_KIND_", f"{path}.kind"),
        start_ns=start_ns,
        end_ns=end_ns or start_ns,
        status_code=_enum(status.get("code"), STATUS_CODES, "STATUS_CODE_", f"{path}.status.code"),
        status_message=_string(status.get("message"), f"{path}.status.message") or None,
        attributes=decode_attributes(data.get("attributes"), f"{path}.attributes"),
        events=tuple(_decode_event(e, f"{path}.events[{i}]") for i, e in enumerate(_array(data, "events", path))),
        links=tuple(_decode_link(k, f"{path}.links[{i}]") for i, k in enumerate(_array(data, "links", path))),
        extra=_rest(data, SPAN_FIELDS) | _rest(status, {"code", "message"}, prefix="status."),
        resource=raw.resource,
        resource_extra=raw.resource_extra,
        scope=raw.scope,
    )


def _decode_event(data: Any, path: str) -> SpanEvent:
    _require_object(data, path)
    return SpanEvent(
        name=_string(data.get("name"), f"{path}.name") or "",
        time_ns=unix_nanos(data.get("timeUnixNano"), f"{path}.timeUnixNano", required=True),
        attributes=decode_attributes(data.get("attributes"), f"{path}.attributes"),
        extra=_rest(data, {"name", "timeUnixNano", "attributes"}),
    )


def _decode_link(data: Any, path: str) -> dict[str, Any]:
    _require_object(data, path)
    link = _rest(data, {"traceId", "spanId", "attributes"})
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
        _require_object(kv, f"{items_path}[{i}]")
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
    _require_object(value, path)
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
    _require_object(inner, path)
    values = inner.get("values") or []
    if not isinstance(values, list):
        raise RecordError(f"{path}.values: expected array, got {json_kind(values)}")
    return [decode_any(v, f"{path}.values[{i}]", depth + 1) for i, v in enumerate(values)]


def _any_kvlist(inner: Any, path: str, depth: int) -> dict[str, Any]:
    _require_object(inner, path)
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


def _string(value: Any, path: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise RecordError(f"{path}: expected string, got {json_kind(value)}")
    return value


def _array(obj: dict[str, Any], key: str, path: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        where = f"{path}.{key}" if path else key
        raise RecordError(f"{where}: expected array, got {json_kind(value)}")
    return value


def _require_object(value: Any, path: str) -> None:
    if not isinstance(value, dict):
        raise RecordError(f"{path}: expected object, got {json_kind(value)}")


def _rest(obj: dict[str, Any], known: set[str] | frozenset[str], prefix: str = "") -> dict[str, Any]:
    return {f"{prefix}{key}": value for key, value in obj.items() if key not in known}
