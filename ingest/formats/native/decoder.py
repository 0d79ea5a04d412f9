"""The native format: JSON Lines whose fields are the canonical event's own names.

A record's canonical fields become the event's; every other key joins `attrs` (an object, or its
JSON text), so nothing is dropped. A key that `attrs` already holds with another value is kept as
`_top.<key>` and flagged `attrs_key_collision`. `ingest.formats.native.fast` decodes whole batches of clean
records in DuckDB and sends only the rest here, one by one.
"""

from __future__ import annotations

from typing import Any

import orjson

from agentwatch.errors import RecordError
from agentwatch.ingest.formats import Format
from agentwatch.ingest.formats.fields import load_object
from agentwatch.ingest.records import SETTABLE, DecodedEvent, Location, json_kind

SNIFF_KEYS = ("ts", "session_id", "event_type")


def sniff_native(first_record: bytes) -> bool:
    """A JSON object with the canonical keys that say what and when."""
    obj = load_object(first_record)
    return obj is not None and all(key in obj for key in SNIFF_KEYS)


def decode_native(record: Any, where: Location) -> list[DecodedEvent]:
    """One native record is one event."""
    if not isinstance(record, dict):
        raise RecordError(f"expected a JSON object, got {json_kind(record)}")
    attrs = _attrs_of(record.get("attrs"))
    columns: dict[str, Any] = {}
    flags: list[str] = []
    for key, value in record.items():
        if key not in SETTABLE:
            _put_attr(attrs, key, value, flags)
        elif key != "attrs":
            columns[key] = value
    return [DecodedEvent.of({**columns, "attrs": attrs, "flags": tuple(flags)})]


def _attrs_of(attrs: Any) -> dict[str, Any]:
    if attrs is None:
        return {}
    if isinstance(attrs, str):
        try:
            attrs = orjson.loads(attrs)
        except orjson.JSONDecodeError as exc:
            raise RecordError(f"`attrs`: not valid JSON text ({exc})") from exc
    if not isinstance(attrs, dict):
        raise RecordError(f"`attrs`: expected object, got {json_kind(attrs)}")
    return dict(attrs)


def _put_attr(attrs: dict[str, Any], key: str, value: Any, flags: list[str]) -> None:
    if key in attrs and attrs[key] != value:
        key = f"_top.{key}"
        flags.append("attrs_key_collision")
    attrs[key] = value


FORMAT = Format(name="native", sniff=sniff_native, decode=decode_native)
