"""One OTLP export request, whatever carried it (HTTP or gRPC): judged, spooled, answered.

A request is cut into pieces (`pieces`: bounded memory whatever its size), each turned into its
OTLP/JSON shape (hex ids) and every item (span, log record, metric) judged as ingest will judge it. A piece
becomes one line of the request's spool file, and the items ingest would quarantine a second line,
where ingest quarantines them with their reason; they are reported in `partial_success`. A line is
never longer than ingest reads (`MAX_LINE_BYTES`): a piece whose line would be is halved, and an item
alone over it is rejected (and quarantined by ingest as an oversize line). The spool write (fsync +
rename) happens before the answer: nothing is acknowledged that is not stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsPartialSuccess,
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsPartialSuccess,
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from agentwatch.errors import RecordError
from agentwatch.ingest.formats.otlp import common as otlp_common
from agentwatch.ingest.formats.otlp import metrics as otlp_metrics
from agentwatch.ingest.formats.otlp.common import Envelope, filter_items
from agentwatch.ingest.formats.otlp.logs import decode_log_records
from agentwatch.ingest.formats.otlp.traces import decode_otlp_spans
from agentwatch.ingest.reader import MAX_LINE_BYTES
from agentwatch.ingest.receiver.pieces import (
    MAX_ITEM_VALUES,
    PIECE_BYTES,
    DictCutter,
    Slot,
    WireCutter,
    pack,
    piece_paths,
)
from agentwatch.ingest.receiver.proto_json import TooManyValues
from agentwatch.ingest.receiver.spool import Spool, SpoolFile
from agentwatch.ingest.records import Location, normalize_event

MAX_REASONS = 5  # in a partial_success error_message


def _one(item: Any) -> int:
    return 1


@dataclass(frozen=True)
class Signal:
    """What differs between the traces, logs and metrics signals."""

    name: str
    path: str  # the OTLP/HTTP path
    envelope: Envelope  # how the request nests its items in OTLP/JSON
    request: type[Message]
    response: type[Message]
    partial: type[Message]
    rejected_field: str
    decode_items: Callable[[Any], list[tuple[str, Any]]]
    location: Location
    events: bool = True  # items become events (checked as ingest will), not metric points
    weigh: Callable[[Any], int] = _one  # what one rejected item counts for (a metric: its data points)


@dataclass(frozen=True)
class Split:
    """A request divided into the items ingest will map and the ones it would quarantine."""

    accepted: dict[str, Any] | None
    rejected: dict[str, Any] | None
    rejected_items: int
    reasons: list[str]


@dataclass
class Verdict:
    """What became of a whole request: items rejected, with a reason each (by request path)."""

    rejected_items: int = 0
    reasons: list[str] = field(default_factory=list)

    def add(self, rejected: int, reasons: list[str]) -> None:
        """Count a piece's rejected items."""
        self.rejected_items += rejected
        self.reasons.extend(reasons)


def split_request(signal: Signal, record: Any, now: datetime, names: dict[str, str] | None = None) -> Split:
    """Judge each item as ingest will; raises RecordError when the envelope itself is malformed.
    Reasons name items by `names` (a piece's paths to the request's), else by their path."""
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
    names = names or {}
    return Split(accepted, rejected, _weigh(signal, rejected), [f"{names.get(p, p)}: {r}" for p, r in reasons.items()])


def _weigh(signal: Signal, rejected: dict[str, Any] | None) -> int:
    env = signal.envelope
    return sum(signal.weigh(item) for resource in (rejected or {}).get(env.resources, ())
               for scope in resource[env.scopes] for item in scope[env.items])


def _item_errors(signal: Signal, record: Any, now: datetime) -> dict[str, str]:
    errors = {}
    for path, result in signal.decode_items(record):
        try:
            if isinstance(result, Exception):
                raise result
            for index, event in enumerate(result if signal.events else ()):
                normalize_event(event, signal.location, now=now, index=index)
        except RecordError as exc:
            errors[path] = exc.message.removeprefix(f"{path}: ").removeprefix(f"{path}.")
    return errors


def accept_export(signal: Signal, request: bytes | Message | Any, spool: Spool, now: datetime | None = None
                  ) -> Verdict:
    """Judge a request (protobuf bytes or message, or parsed OTLP/JSON) piece by piece and spool it
    durably; raises RecordError (a bad envelope) or OSError (not stored), and then nothing is spooled."""
    now = now or datetime.now(UTC)
    if isinstance(request, Message):
        request = request.SerializeToString()
    cutter: WireCutter | DictCutter
    if isinstance(request, bytes):
        cutter = WireCutter(signal.envelope, request, signal.request)
    else:
        cutter = DictCutter(signal.envelope, request)
    verdict = Verdict()
    with spool.open() as spooled:
        for slots in pack(list(cutter.items()), PIECE_BYTES):
            _spool_piece(signal, cutter, slots, now, spooled, verdict)
    return verdict


def _spool_piece(signal: Signal, cutter: Any, slots: list[Slot], now: datetime, spooled: SpoolFile,
                 verdict: Verdict) -> None:
    """Judge one piece and add its lines; a piece too large to convert or to be one line is halved."""
    judged = _judge(signal, cutter, slots, now)
    if judged is None or max(map(len, judged[1]), default=0) > MAX_LINE_BYTES:
        if len(slots) > 1:
            for half in (slots[: len(slots) // 2], slots[len(slots) // 2:]):
                _spool_piece(signal, cutter, half, now, spooled, verdict)
            return
        judged = _refuse_alone(signal, slots[0], judged)
    split, lines = judged
    for line in lines:
        spooled.add(line)
    verdict.add(split.rejected_items, split.reasons)


def _judge(signal: Signal, cutter: Any, slots: list[Slot], now: datetime) -> tuple[Split, list[bytes]] | None:
    """A piece's split and its lines; None when it holds too many values to convert."""
    try:
        record = cutter.build(slots)
    except TooManyValues:
        return None
    split = split_request(signal, record, now, piece_paths(signal.envelope, slots))
    return split, [orjson.dumps(part) for part in (split.accepted, split.rejected) if part is not None]


def _refuse_alone(signal: Signal, slot: Slot, judged: tuple[Split, list[bytes]] | None) -> tuple[Split, list[bytes]]:
    """One item too large: refused unconverted (too many values: kept nowhere, the client is told why), or
    spooled as the line it is, which ingest quarantines as an oversize line."""
    path = signal.envelope.path(*slot)
    if judged is None:
        return Split(None, None, 1, [f"{path}: over {MAX_ITEM_VALUES} attribute values"]), []
    split, lines = judged
    if split.accepted is None:
        return judged
    return Split(None, split.accepted, 1, [f"{path}: over {MAX_LINE_BYTES} bytes as OTLP/JSON, more than a "
                                           "spool line may hold"]), lines


def export_response(signal: Signal, split: Verdict) -> Message:
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
METRICS = Signal("metrics", "/v1/metrics", otlp_metrics.METRICS, ExportMetricsServiceRequest,
                 ExportMetricsServiceResponse, ExportMetricsPartialSuccess, "rejected_data_points",
                 otlp_metrics.decode_metric_items, Location("otlp_metrics", "<receiver>", 0, 1), events=False,
                 weigh=otlp_metrics.count_points)
SIGNALS = {signal.path: signal for signal in (TRACES, LOGS, METRICS)}
