"""Turn one decoded source event (a `DecodedEvent`) into a validated canonical row.

Every format's decoder ends here, so the policy for odd values lives in one place:

- wrong JSON kinds are rejected, never coerced (`"seq": "abc"` raises `RecordError`);
- a required field that is missing, null or empty is rejected;
- kept-but-adjusted values are flagged in `flags` (e.g. `ts_assumed_utc`, `nan_to_null`);
- what the canonical event has no column for is in `attrs`, so nothing the source said is dropped.

The helpers every decoder shares live here too: the int64 bounds, the epoch, the `seq` encoding,
and the kind checks that name where a value was wrong.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from agentwatch.errors import RecordError
from agentwatch.schema import (
    EVENT_COLUMNS,
    EVENT_TYPES,
    INTEGER_FIELDS,
    REQUIRED_FIELDS,
    STATUSES,
    STRING_FIELDS,
    UNKNOWN_EVENT_TYPE,
)

# Fields a decoder may set; provenance and bookkeeping are set by ingest itself.
SETTABLE = frozenset(EVENT_COLUMNS) - {"source_format", "source_file", "source_offset", "flags", "redactions"}
# Defined once for every decoder: int64 bounds, the epoch, and how `seq` folds an event's index
# within its record into the record's position (time or line): position * SEQ_SLOTS + index.
MIN_INT64, MAX_INT64 = -(2**63), 2**63 - 1
SEQ_SLOTS = 1000
MAX_SEQ_POSITION = (MAX_INT64 - SEQ_SLOTS + 1) // SEQ_SLOTS  # the last position whose every seq fits int64
# ISO-8601 date-time as agents write it; the fraction may carry more digits than microseconds.
_ISO_TS = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:[.,](\d+))?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)
FUTURE_TOLERANCE = timedelta(days=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class DecodedEvent:
    """What a format decoder says about one event, by canonical field (ingest adds provenance).

    Built with `DecodedEvent.of(fields)`: a name that is no canonical column is a TypeError, so a
    misspelt column fails a test instead of moving silently into `attrs`. Values are validated by
    `normalize_event`.
    """

    event_type: str | None = None
    ts: Any = None  # ISO-8601 text or an aware datetime
    event_id: str | None = None
    agent_id: str | None = None
    session_id: str | None = None
    parent_session_id: str | None = None
    trace_id: str | None = None
    span_id: str | None = None
    parent_span_id: str | None = None
    seq: int | None = None
    actor: str | None = None
    model: str | None = None
    tool_name: str | None = None
    tool_call_id: str | None = None
    tool_args: Any = None
    text: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    status: str | None = None
    attrs: dict[str, Any] | None = None  # every other field the source gave
    flags: tuple[str, ...] = ()  # what the decoder assumed (e.g. `ts_from_thread_id`)

    @classmethod
    def of(cls, fields: Mapping[str, Any]) -> DecodedEvent:
        """The event of a dict of canonical fields; an unknown name raises TypeError."""
        return cls(**fields)

    def as_fields(self) -> dict[str, Any]:
        """The columns that are set (not `attrs`, not `flags`), as `normalize_event` checks them."""
        return {name: getattr(self, name) for name in _DECODED_FIELDS if getattr(self, name) is not None}


@dataclass(frozen=True)
class FileHints:
    """What a file as a whole says, for formats whose lines do not say it themselves."""

    first_record: bytes = b""  # the first non-blank line (a `codex exec` stream's thread.started)
    mtime_ns: int | None = None  # when the file was last written


@dataclass(frozen=True)
class Location:
    """Where a record was read: provenance for its events and for quarantine."""

    source_format: str
    source_file: str
    source_offset: int
    line_no: int
    hints: FileHints = FileHints()

    def __str__(self) -> str:
        return f"{self.source_file}:{self.line_no}"


_DECODED_FIELDS = tuple(name for name in DecodedEvent.__dataclass_fields__ if name not in ("attrs", "flags"))


def seq_of(position: int, index: int) -> int:
    """The `seq` of the `index`-th event of a record at `position` (µs since the epoch, or a line
    number); indexes past the record's slots share the last one."""
    return position * SEQ_SLOTS + min(index, SEQ_SLOTS - 1)


def micros_since_epoch(ts: datetime) -> int:
    """Whole microseconds since the epoch of an aware datetime."""
    delta = ts - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def micros_of_text(text: str) -> int:
    """Microseconds since the epoch of an ISO-8601 timestamp, read by `parse_ts`'s rules."""
    return micros_since_epoch(parse_ts(text, [], EPOCH))


def time_of_nanos(nanos: int) -> datetime:
    """The UTC time of nanoseconds since the epoch, cut to microseconds (the lake's precision)."""
    return EPOCH + timedelta(microseconds=nanos // 1000)


def stable_event_id(source_file: str, source_offset: int, content: bytes, index: int = 0) -> str:
    """The dedup key of an event whose source gave none: hash of where it was read and what it said."""
    head = f"{source_file}\x1f{source_offset}\x1f{index}\x1f".encode()
    return hashlib.md5(head + content, usedforsecurity=False).hexdigest()


def normalize_event(
    event: DecodedEvent,
    where: Location,
    *,
    now: datetime,
    content: bytes = b"",
    index: int = 0,
    flags: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Validate one decoded event and return a canonical row (dict keyed by EVENT_COLUMNS).

    `content` (the raw record) and `index` (the event's position within it) make the stable
    event id when the source gave none; `flags` are what parsing already adjusted.
    """
    flags = [*flags, *event.flags]
    attrs = dict(event.attrs or {})
    row: dict[str, Any] = {name: None for name in EVENT_COLUMNS}
    for key, value in event.as_fields().items():
        row[key] = _check_field(key, value, flags)
    for name in REQUIRED_FIELDS:
        if row[name] is None or row[name] == "":
            raise RecordError(f"missing required field `{name}`")
    row["ts"] = parse_ts(row["ts"], flags, now)
    row["event_type"] = _check_event_type(row["event_type"], attrs, flags)
    if row["status"] is not None and row["status"] not in STATUSES:
        flags.append("unknown_status")
    for name in ("input_tokens", "output_tokens"):
        if row[name] is not None and row[name] < 0:
            raise RecordError(f"`{name}` must not be negative, got {row[name]}")
    if row["seq"] is None:
        row["seq"] = where.line_no
        flags.append("seq_from_line")
    if row["event_id"] is None:
        row["event_id"] = stable_event_id(where.source_file, where.source_offset, content, index)
    row["redactions"] = 0
    row["flags"] = flags
    row["source_format"] = where.source_format
    row["source_file"] = where.source_file
    row["source_offset"] = where.source_offset
    row["attrs"] = to_json_text(attrs, "attrs")
    return row


def to_json_text(value: Any, name: str) -> str:
    """Serialize a decoded JSON value; what JSON or Arrow cannot hold is a record error, not a crash."""
    try:
        return orjson.dumps(value).decode()
    except TypeError as exc:  # nesting over 255 levels, integers over 64 bits, lone surrogates
        raise RecordError(f"`{name}`: cannot be stored as JSON ({exc})") from exc


def _check_field(key: str, value: Any, flags: list[str]) -> Any:
    if value is None:
        return None
    if key == "ts":
        if isinstance(value, datetime):
            return value
        if not isinstance(value, str):
            raise RecordError(f"`ts`: expected ISO-8601 string, got {json_kind(value)}")
        return value
    if key in ("tool_args",):
        return _check_text(key, value) if isinstance(value, str) else to_json_text(value, key)
    if key in STRING_FIELDS:
        if not isinstance(value, str):
            raise RecordError(f"`{key}`: expected string, got {json_kind(value)}")
        return _check_text(key, value)
    if key in INTEGER_FIELDS:
        return _check_int(key, value, flags)
    raise RecordError(f"`{key}`: not a settable field")  # pragma: no cover - SETTABLE guards this


def _check_text(key: str, value: str) -> str:
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            code = ord(exc.object[exc.start])
            raise RecordError(f"`{key}`: text holds an unpaired surrogate (\\u{code:04x})") from exc
    return value


def _check_int(key: str, value: Any, flags: list[str]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RecordError(f"`{key}`: expected integer, got {json_kind(value)}")
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            flags.append("nan_to_null")
            return None
        if not value.is_integer():
            raise RecordError(f"`{key}`: expected integer, got fraction {value!r}")
        value = int(value)
    if not MIN_INT64 <= value <= MAX_INT64:
        raise RecordError(f"`{key}`: integer {value} is outside 64-bit range")
    return value


def _check_event_type(value: str, attrs: dict[str, Any], flags: list[str]) -> str:
    if value in EVENT_TYPES:
        return value
    attrs.setdefault("source_event_type", value)
    flags.append("unknown_event_type")
    return UNKNOWN_EVENT_TYPE


def parse_ts(value: str | datetime, flags: list[str], now: datetime) -> datetime:
    """Parse an ISO-8601 timestamp to UTC microseconds, flagging what the policy adjusted."""
    ts = value if isinstance(value, datetime) else _parse_iso(value.strip(), flags)
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
        flags.append("ts_assumed_utc")
    ts = ts.astimezone(UTC)
    if ts < EPOCH:
        flags.append("ts_before_1970")
    elif ts > now + FUTURE_TOLERANCE:
        flags.append("ts_future")
    return ts


def _parse_iso(text: str, flags: list[str]) -> datetime:
    match = _ISO_TS.match(text)
    if not match:
        raise RecordError(f"`ts`: not an ISO-8601 timestamp: {text[:64]!r}")
    date, clock, fraction, zone = match.groups()
    if fraction and len(fraction) > 6:
        flags.append("ts_truncated_to_us")
    micro = (fraction or "")[:6].ljust(6, "0")
    zone = "+00:00" if zone in (None, "Z", "z") else _normalize_zone(zone)
    try:
        ts = datetime.fromisoformat(f"{date}T{_with_seconds(clock)}.{micro}{zone}")
    except ValueError as exc:
        raise RecordError(f"`ts`: invalid timestamp {text[:64]!r} ({exc})") from exc
    return ts if match.group(4) else ts.replace(tzinfo=None)


def _with_seconds(clock: str) -> str:
    return clock if clock.count(":") == 2 else f"{clock}:00"


def _normalize_zone(zone: str) -> str:
    digits = zone[1:].replace(":", "")
    return f"{zone[0]}{digits[:2]}:{digits[2:4] or '00'}"


def check_str(value: Any, where: str) -> str | None:
    """`value` if it is a string or null; another kind is a RecordError naming `where`, never coerced."""
    if value is not None and not isinstance(value, str):
        raise RecordError(f"{where}: expected string, got {json_kind(value)}")
    return value


def json_kind(value: Any) -> str:
    """The JSON name of a Python value's kind, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
