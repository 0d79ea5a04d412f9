"""A protobuf export request cut into pieces without parsing it whole.

Parsing a request of array-heavy spans costs ten times its bytes (each 4-byte array element becomes a
message), so the receiver never parses a request whole: it walks the protobuf wire format (tags and
lengths only) down to the items (spans, log records, metrics), then builds each piece's bytes from the
request's own bytes (its resources' and scopes' other fields, and its items, in their order) and parses
only that piece. Every export request nests alike: field 1 of the request holds the resources, field
2 of a resource its scopes, field 2 of a scope its items, whatever the signal.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from agentwatch.errors import RecordError

RESOURCES, SCOPES, ITEMS = 1, 2, 2  # field numbers: request.resource_*, resource.scope_*, scope.<items>
TRACE_ID = 1  # Span.trace_id
LENGTH_DELIMITED = 2


@dataclass(frozen=True)
class Field:
    """One field on the wire: its number, where it starts and ends (tag included), and its payload's
    bounds when it is length-delimited."""

    number: int
    start: int
    end: int
    payload: tuple[int, int] | None


@dataclass
class Scope:
    """A scope's fields but its items (raw bytes), and its items' bounds."""

    shell: bytes
    items: list[tuple[int, int]]


@dataclass
class Resource:
    """A resource's fields but its scopes (raw bytes), and its scopes."""

    shell: bytes
    scopes: list[Scope]


def walk(buf: bytes, start: int, end: int, what: str) -> Iterator[Field]:
    """The fields of the message in buf[start:end]; RecordError naming `what` when they do not parse."""
    pos = start
    while pos < end:
        field_start = pos
        key, pos = _varint(buf, pos, end, what)
        kind, payload = key & 7, None
        if kind == 0:
            pos = _varint(buf, pos, end, what)[1]
        elif kind == LENGTH_DELIMITED:
            size, pos = _varint(buf, pos, end, what)
            payload, pos = (pos, pos + size), pos + size
        elif kind in (1, 5):
            pos += 8 if kind == 1 else 4
        else:
            raise RecordError(f"{what}: wire type {kind} is not protobuf 3")
        if pos > end:
            raise RecordError(f"{what}: truncated")
        yield Field(key >> 3, field_start, pos, payload)


def _varint(buf: bytes, pos: int, end: int, what: str) -> tuple[int, int]:
    value = shift = 0
    while pos < end and shift < 64:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
    raise RecordError(f"{what}: truncated or malformed varint")


def read_request(buf: bytes, name: str) -> list[Resource]:
    """The request's resources, scopes and item bounds (nothing parsed but tags and lengths)."""
    return [_resource(buf, f.payload, name) for f in walk(buf, 0, len(buf), name)
            if f.number == RESOURCES and f.payload is not None]


def _resource(buf: bytes, bounds: tuple[int, int], name: str) -> Resource:
    shell, scopes = [], []
    for f in walk(buf, *bounds, name):
        if f.number == SCOPES and f.payload is not None:
            scopes.append(_scope(buf, f.payload, name))
        else:
            shell.append(buf[f.start:f.end])
    return Resource(b"".join(shell), scopes)


def _scope(buf: bytes, bounds: tuple[int, int], name: str) -> Scope:
    shell, items = [], []
    for f in walk(buf, *bounds, name):
        if f.number == ITEMS and f.payload is not None:
            items.append(f.payload)
        else:
            shell.append(buf[f.start:f.end])
    return Scope(b"".join(shell), items)


def trace_id(buf: bytes, bounds: tuple[int, int]) -> bytes | None:
    """A span's trace id, read off its first fields."""
    for f in walk(buf, *bounds, "span"):
        if f.number == TRACE_ID and f.payload is not None:
            return buf[f.payload[0]:f.payload[1]]
    return None


def length_delimited(number: int, payload: bytes) -> bytes:
    """One length-delimited field: its tag, its length, its payload."""
    return encode_varint(number << 3 | LENGTH_DELIMITED) + encode_varint(len(payload)) + payload


def encode_varint(value: int) -> bytes:
    """A non-negative integer as a protobuf varint."""
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)
