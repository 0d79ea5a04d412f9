"""One OTLP export request, whatever carried it (HTTP or gRPC): judged, spooled, answered.

A request of either signal (traces, logs) is turned into its OTLP/JSON shape (hex ids), every item
(span, log record) judged as ingest will judge it; the items ingest would quarantine are reported in
`partial_success` and written on a second line of the same spool file, where ingest quarantines them
with their reason. The spool write (fsync + rename) happens before the answer: nothing is
acknowledged that is not stored.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsPartialSuccess,
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from agentwatch.errors import RecordError
from agentwatch.ingest.formats.otlp import common as otlp_common
from agentwatch.ingest.formats.otlp.common import Envelope, filter_items
from agentwatch.ingest.formats.otlp.logs import decode_log_records
from agentwatch.ingest.formats.otlp.traces import decode_otlp_spans
from agentwatch.ingest.receiver.spool import Spool
from agentwatch.ingest.records import Location, normalize_event

MAX_REASONS = 5  # in a partial_success error_message


@dataclass(frozen=True)
class Signal:
    """What differs between the traces and the logs signal."""

    name: str
    path: str  # the OTLP/HTTP path
    envelope: Envelope  # how the request nests its items in OTLP/JSON
    request: type[Message]
    response: type[Message]
    partial: type[Message]
    rejected_field: str
    decode_items: Callable[[Any], list[tuple[str, Any]]]
    location: Location


@dataclass(frozen=True)
class Split:
    """A request divided into the items ingest will map and the ones it would quarantine."""

    accepted: dict[str, Any] | None
    rejected: dict[str, Any] | None
    rejected_items: int
    reasons: list[str]


def to_otlp_json(message: Message) -> dict[str, Any]:
    """A protobuf request in the OTLP/JSON shape: lowerCamelCase, integer enums, hex ids (not base64)."""
    data = json_format.MessageToDict(message, use_integers_for_enums=True)
    for resource in data.get("resourceSpans", []):
        for scope in resource.get("scopeSpans", []):
            for span in scope.get("spans", []):
                _hexify(span, ("traceId", "spanId", "parentSpanId"))
                for link in span.get("links", []):
                    _hexify(link, ("traceId", "spanId"))
    for resource in data.get("resourceLogs", []):
        for scope in resource.get("scopeLogs", []):
            for record in scope.get("logRecords", []):
                _hexify(record, ("traceId", "spanId"))
    return data


def _hexify(obj: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        if key in obj:
            obj[key] = base64.b64decode(obj[key]).hex()


def split_request(signal: Signal, record: Any, now: datetime) -> Split:
    """Judge each item as ingest will; raises RecordError when the envelope itself is malformed."""
    if isinstance(record, dict):  # protobuf's JSON omits an empty list: such a request is empty
        record.setdefault(signal.envelope.resources, [])
    reasons: dict[str, str] = {}  # original item path -> reason
    accepted, origin = record, None
    while True:  # dropping a span can orphan another's identity: judge what is left again
        errors = _item_errors(signal, accepted, now)
        reasons.update({(origin or {}).get(path, path): reason for path, reason in errors.items()})
        accepted, origin = filter_items(signal.envelope, record, lambda path: path not in reasons)
        if not errors or accepted is None:
            break
    rejected = filter_items(signal.envelope, record, lambda path: path in reasons)[0] if reasons else None
    return Split(accepted, rejected, len(reasons), [f"{p}: {r}" for p, r in reasons.items()])


def _item_errors(signal: Signal, record: Any, now: datetime) -> dict[str, str]:
    errors = {}
    for path, result in signal.decode_items(record):
        try:
            if isinstance(result, Exception):
                raise result
            for index, event in enumerate(result):
                normalize_event(event, signal.location, now=now, index=index)
        except RecordError as exc:
            errors[path] = exc.message.removeprefix(f"{path}: ").removeprefix(f"{path}.")
    return errors


def accept_export(signal: Signal, record: Any, spool: Spool, now: datetime | None = None) -> Split:
    """Judge a request and spool it durably; raises RecordError (a bad envelope) or OSError (not stored)."""
    split = split_request(signal, record, now or datetime.now(UTC))
    lines = [orjson.dumps(part) for part in (split.accepted, split.rejected) if part is not None]
    if lines:
        spool.write(lines)
    return split


def export_response(signal: Signal, split: Split) -> Message:
    """The Export*ServiceResponse; partial_success only when items were rejected."""
    response = signal.response()
    if split.rejected_items:
        shown = "; ".join(split.reasons[:MAX_REASONS])
        more = len(split.reasons) - MAX_REASONS
        message = shown + (f"; and {more} more" if more > 0 else "")
        partial = signal.partial(**{signal.rejected_field: split.rejected_items, "error_message": message})
        response.partial_success.CopyFrom(partial)
    return response


TRACES = Signal("traces", "/v1/traces", otlp_common.TRACES, ExportTraceServiceRequest, ExportTraceServiceResponse,
                ExportTracePartialSuccess, "rejected_spans", decode_otlp_spans,
                Location("otlp_json", "<receiver>", 0, 1))
LOGS = Signal("logs", "/v1/logs", otlp_common.LOGS, ExportLogsServiceRequest, ExportLogsServiceResponse,
              ExportLogsPartialSuccess, "rejected_log_records", decode_log_records,
              Location("otlp_logs", "<receiver>", 0, 1))
SIGNALS = {signal.path: signal for signal in (TRACES, LOGS)}
