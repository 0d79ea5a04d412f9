"""OTLP/JSON trace files: one `ExportTraceServiceRequest` per line, as a Collector file exporter writes.

Each span is mapped by the conventions it carries: OpenInference when it has `openinference.span.kind`
(`openinference_spans`), the OpenTelemetry GenAI conventions otherwise (`genai_spans`). So this format
and `openinference` decode alike; they differ in what they sniff and in the provenance they record.
The envelope is parsed by `otlp_common`; ids, seq, identity and the one-record-one-verdict policy for
malformed spans are in `otlp_spans`.
"""

from __future__ import annotations

from typing import Any

from agentwatch.errors import RecordError
from agentwatch.ingest.formats import Format
from agentwatch.ingest.formats.otlp.common import TRACES, Span, has_span_attribute, load_envelope, may_spell
from agentwatch.ingest.formats.otlp.genai_spans import GENAI
from agentwatch.ingest.formats.otlp.openinference_spans import KIND_KEY, OPENINFERENCE
from agentwatch.ingest.formats.otlp.spans import Convention, decode_request, decode_spans
from agentwatch.ingest.records import DecodedEvent, Location


def sniff_otlp_json(first_record: bytes) -> bool:
    """An OTLP trace request none of whose spans is OpenInference."""
    envelope = load_envelope(first_record, TRACES)
    if envelope is None:
        return False
    # a spool file holds thousands of spans: walking them all only to find no OpenInference key is
    # the cost of sniffing, so the walk runs only when the raw text could hold the key
    return not (may_spell(first_record, KIND_KEY) and has_span_attribute(envelope, KIND_KEY))


def pick_convention(span: Span) -> Convention:
    """OpenInference for spans that say so, GenAI for every other span."""
    return OPENINFERENCE if KIND_KEY in span.attributes else GENAI


def decode_otlp_json(record: Any, where: Location) -> list[DecodedEvent]:
    """All events of all spans of one request; one malformed span quarantines the record."""
    return decode_request(record, pick_convention)


def decode_otlp_spans(record: Any) -> list[tuple[str, list[DecodedEvent] | RecordError]]:
    """Each span's events or its own error (for accepting part of a request)."""
    return decode_spans(record, pick_convention)


FORMAT = Format(name="otlp_json", sniff=sniff_otlp_json, decode=decode_otlp_json)
