"""OpenInference traces (Arize Phoenix conventions) in the OTLP/JSON envelope, one request per line.

Recognized by spans carrying `openinference.span.kind`; decoded like `otlp_json` (each span by the
conventions it carries, see `openinference_spans`), recorded with source_format `openinference`.
"""

from __future__ import annotations

from agentwatch.ingest.formats import Format
from agentwatch.ingest.formats.otlp.common import TRACES, has_span_attribute, load_envelope, may_spell
from agentwatch.ingest.formats.otlp.openinference_spans import KIND_KEY
from agentwatch.ingest.formats.otlp.traces import decode_otlp_json


def sniff_openinference(first_record: bytes) -> bool:
    """An OTLP trace request with at least one OpenInference span."""
    if not may_spell(first_record, KIND_KEY):
        return False
    envelope = load_envelope(first_record, TRACES)
    return envelope is not None and has_span_attribute(envelope, KIND_KEY)


FORMAT = Format(name="openinference", sniff=sniff_openinference, decode=decode_otlp_json)
