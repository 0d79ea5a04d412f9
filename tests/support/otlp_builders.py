"""Tiny builders for OTLP/JSON trace requests, shared by the OTLP decoder and receiver tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from agentwatch.ingest.decode import decode_line
from agentwatch.ingest.formats import get_format
from agentwatch.ingest.records import Location

NOW = datetime(2026, 6, 1, tzinfo=UTC)
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
BASE_NS = 1767225600_000000000  # 2026-01-01T00:00:00Z


def value(v: Any) -> dict[str, Any]:
    """An OTLP/JSON AnyValue for a plain Python value (ints as strings, as the spec writes them)."""
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, list):
        return {"arrayValue": {"values": [value(x) for x in v]}}
    if isinstance(v, dict):
        return {"kvlistValue": {"values": [{"key": k, "value": value(x)} for k, x in v.items()]}}
    return {"stringValue": v}


def kv(attributes: dict[str, Any]) -> list[dict[str, Any]]:
    """An OTLP/JSON attribute list."""
    return [{"key": key, "value": value(v)} for key, v in attributes.items()]


def span(span_id: str = "00f067aa0ba902b7", attributes: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A span one second long starting at BASE_NS; `fields` override or add raw JSON fields."""
    data = {
        "traceId": TRACE,
        "spanId": span_id,
        "name": "chat gpt-4o",
        "kind": 3,
        "startTimeUnixNano": str(BASE_NS),
        "endTimeUnixNano": str(BASE_NS + 1_000_000_000),
        "attributes": kv(attributes or {}),
    }
    data.update(fields)
    return data


def request(*spans: dict[str, Any], service: str | None = "svc") -> dict[str, Any]:
    """An ExportTraceServiceRequest in OTLP/JSON holding `spans` under one resource and scope."""
    resource = {"attributes": kv({"service.name": service})} if service else {}
    scope_spans = [{"scope": {"name": "test"}, "spans": list(spans)}]
    return {"resourceSpans": [{"resource": resource, "scopeSpans": scope_spans}]}


def decode(record: Any, fmt: str = "otlp_json", source: str = "traces.jsonl") -> list[dict[str, Any]]:
    """Canonical rows of one record, through the same path ingest takes (decode + normalize)."""
    raw = record if isinstance(record, bytes) else orjson.dumps(record)
    return decode_line(raw, Location(fmt, source, 0, 1), get_format(fmt), NOW)
