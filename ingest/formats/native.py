"""The native format: JSON Lines whose fields are the canonical event's own names.

Records go through `ingest.records.normalize_event` unchanged; `ingest.native_fast` decodes whole
batches of clean records in DuckDB and sends only the rest here, one by one.
"""

from __future__ import annotations

from typing import Any

import orjson

from agentwatch.errors import RecordError
from agentwatch.ingest.formats import Format
from agentwatch.ingest.records import Location, json_kind

SNIFF_KEYS = ("ts", "session_id", "event_type")


def sniff_native(first_record: bytes) -> bool:
    """A JSON object with the canonical keys that say what and when."""
    try:
        obj = orjson.loads(first_record.lstrip(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError:
        return False
    return isinstance(obj, dict) and all(key in obj for key in SNIFF_KEYS)


def decode_native(record: Any, where: Location) -> list[dict[str, Any]]:
    """One native record is one event."""
    if not isinstance(record, dict):
        raise RecordError(f"expected a JSON object, got {json_kind(record)}")
    return [record]


FORMAT = Format(name="native", sniff=sniff_native, decode=decode_native)
