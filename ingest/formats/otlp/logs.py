"""OTLP logs: one `ExportLogsServiceRequest` per line (resourceLogs -> scopeLogs -> logRecords), as a
Collector's file exporter writes them and as `agentwatch receive` spools `POST /v1/logs` and gRPC.

This is how the agents' own telemetry arrives: Claude Code exports its events (`claude_code.*`)
through the logs signal, Codex CLI its `codex.*` events; OTel GenAI instrumentations log
`gen_ai.*` events. Which events a log record becomes is decided in `log_events`; this module parses
the envelope (same OTLP/JSON rules as traces: hex ids, int64 as strings) and completes the events:

- event_id = "log:<digest>:<n>", the digest a hash of the record with its resource and scope: the
  same record exported twice (a retried batch) deduplicates; two different records never collide.
- seq = `seq_of(the event's time in microseconds, n)`, as for spans.
- ts = `timeUnixNano`, else `observedTimeUnixNano`, else the `event.timestamp` attribute.
- attrs: every attribute not mapped to a column, plus "log" (name, severity, body when not mapped,
  other fields, the resource's other fields as "resource_fields"), "resource" and "scope".

A malformed log record quarantines its whole request (the record of the file), its path in the reason.
Plain Claude Code and Codex requests are decoded in bulk by `ingest.formats.otlp.fast.logs`, which gives the
same events (ids included); this module decodes every other line and owns the policy.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from agentwatch.errors import RecordError
from agentwatch.ingest.formats import Format
from agentwatch.ingest.formats.otlp.common import LOGS, RawItem, all_or_error, item_event, iter_raw_items, load_envelope
from agentwatch.ingest.formats.otlp.log_events import map_log_record
from agentwatch.ingest.formats.otlp.values import (
    decode_any,
    decode_attributes,
    hex_id,
    require_object,
    rest_of,
    unix_nanos,
)
from agentwatch.ingest.records import (
    DecodedEvent,
    Location,
    check_str,
    micros_of_text,
)

LOG_FIELDS = frozenset({"timeUnixNano", "observedTimeUnixNano", "severityNumber", "severityText", "body",
                        "attributes", "traceId", "spanId", "eventName"})


@dataclass(frozen=True)
class LogRecord:
    """One log record with its resource and scope, every value decoded from AnyValue to plain JSON."""

    path: str
    time_ns: int
    name: str  # eventName, else the `event.name` attribute, else a string body naming an event
    body: Any
    attributes: dict[str, Any]
    trace_id: str | None
    span_id: str | None
    severity: dict[str, Any]
    extra: dict[str, Any]
    resource: dict[str, Any]
    resource_extra: dict[str, Any]  # the resource's other fields (schemaUrl, dropped counts)
    scope: dict[str, Any]
    digest: str


def sniff_otlp_logs(first_record: bytes) -> bool:
    """An OTLP logs export request."""
    return load_envelope(first_record, LOGS) is not None


def decode_otlp_logs(record: Any, where: Location) -> list[DecodedEvent]:
    """All events of all log records of one request; one malformed record quarantines the request."""
    return all_or_error(decode_log_records(record))


def decode_log_records(record: Any) -> list[tuple[str, list[DecodedEvent] | RecordError]]:
    """Each log record's events, or the error that rejects it alone, keyed by its path."""
    results: list[tuple[str, list[DecodedEvent] | RecordError]] = []
    for raw in iter_raw_items(record, LOGS):
        try:
            results.append((raw.path, _events(parse_log(raw))))
        except RecordError as exc:
            reason = exc.message if exc.message.startswith(raw.path) else f"{raw.path}: {exc.message}"
            results.append((raw.path, RecordError(reason)))
    return results


def parse_log(raw: RawItem) -> LogRecord:
    """Decode one log record's JSON."""
    data, path = raw.data, raw.path
    require_object(data, path)
    attributes = decode_attributes(data.get("attributes"), f"{path}.attributes")
    body = decode_any(data.get("body"), f"{path}.body")
    name = _name_of(data.get("eventName"), attributes.get("event.name"), body, path)
    severity = {k: data[k] for k in ("severityNumber", "severityText") if k in data}
    digest = hashlib.md5(orjson.dumps([raw.resource, raw.scope, data], option=orjson.OPT_SORT_KEYS),
                         usedforsecurity=False).hexdigest()
    return LogRecord(
        path=path,
        time_ns=_time_of(data, attributes, path),
        name=name,
        body=body,
        attributes=attributes,
        trace_id=hex_id(data.get("traceId"), f"{path}.traceId", 16, required=False),
        span_id=hex_id(data.get("spanId"), f"{path}.spanId", 8, required=False),
        severity=severity,
        extra=rest_of(data, LOG_FIELDS),
        resource=raw.resource,
        resource_extra=raw.resource_extra,
        scope=raw.scope,
        digest=digest,
    )


def _name_of(event_name: Any, attribute: Any, body: Any, path: str) -> str:
    """The event's name: `eventName`, the `event.name` attribute, or a body that is a dotted name
    (Claude Code writes `event.name` = `tool_result` and the body `claude_code.tool_result`); the
    first one qualified with its family wins."""
    check_str(event_name, f"{path}.eventName")
    named_body = body if isinstance(body, str) and 0 < len(body) <= 128 and " " not in body and "." in body else None
    candidates = [n for n in (event_name, attribute, named_body) if isinstance(n, str) and n]
    return next((n for n in candidates if "." in n), candidates[0] if candidates else "")


def _time_of(data: dict[str, Any], attributes: dict[str, Any], path: str) -> int:
    for key in ("timeUnixNano", "observedTimeUnixNano"):
        nanos = unix_nanos(data.get(key), f"{path}.{key}", required=False)
        if nanos:
            return nanos
    stamp = attributes.get("event.timestamp")
    if isinstance(stamp, str):
        return micros_of_text(stamp) * 1000
    raise RecordError(f"{path}: no time (timeUnixNano, observedTimeUnixNano or event.timestamp)")


def _events(log: LogRecord) -> list[DecodedEvent]:
    mapped = map_log_record(log)
    base = {key: value for key, value in log.attributes.items() if key not in mapped.consumed}
    meta: dict[str, Any] = {"name": log.name, **log.severity, **log.extra}
    if not mapped.body_consumed and log.body is not None:
        meta["body"] = log.body
    if log.resource_extra:
        meta["resource_fields"] = log.resource_extra
    events = []
    for n, part in enumerate(sorted(mapped.parts, key=lambda p: p["time_ns"])):
        part = dict(part)
        time_ns = part.pop("time_ns")
        attrs = {**base, "log": meta, "resource": log.resource, "scope": log.scope, **part.pop("attrs", {})}
        columns = {"event_id": f"log:{log.digest}:{n}", "agent_id": mapped.agent_id,
                   "session_id": mapped.session_id, "trace_id": log.trace_id, "span_id": log.span_id}
        events.append(item_event(time_ns, n, columns | part, attrs))
    return events


FORMAT = Format(name="otlp_logs", sniff=sniff_otlp_logs, decode=decode_otlp_logs)
