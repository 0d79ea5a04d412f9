"""Cutting one OTLP export request into pieces, so a request of any size is decoded in bounded memory
and spooled as lines ingest always reads back.

A piece is a smaller request of the same signal: the items (spans, log records, metrics) of some
slots with their resources and scopes. A protobuf request is never parsed whole (`wire`): each
piece is built from its bytes and parsed alone. Items are weighed (protobuf: their encoded size; JSON: their
JSON size) and packed in request order up to `piece_bytes`; the spans of one trace stay in one piece
while they fit, so a span's ancestors are beside it when its identity is resolved (a trace larger than
a piece is cut, and ingest's reconciliation joins it again by trace id, as it does across batches).

Converting protobuf to OTLP/JSON costs memory by the number of values (an array of 4-byte ints becomes
one dict per element): a piece is converted with at most `MAX_ITEM_VALUES` attribute values, an item
alone with more is refused (`TooManyValues`) before the rest of it is built.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from google.protobuf.message import DecodeError, Message

from agentwatch.errors import RecordError
from agentwatch.ingest.formats.otlp.common import Envelope
from agentwatch.ingest.formats.otlp.values import array_field, require_object
from agentwatch.ingest.receiver.proto_json import Converter
from agentwatch.ingest.receiver.wire import ITEMS, RESOURCES, SCOPES, length_delimited, read_request, trace_id
from agentwatch.ingest.records import json_kind

PIECE_BYTES = 512 << 10
MAX_ITEM_VALUES = 500_000  # attribute values of a piece: ~250 bytes of Python objects each once converted
Slot = tuple[int, int, int]  # resource, scope, item: where an item sits in its request


@dataclass(frozen=True)
class Weighed:
    """One item's slot, the key that keeps it with its relatives (trace id), and its weight."""

    slot: Slot
    key: Any
    size: int


class WireCutter:
    """Pieces of a protobuf request (its bytes), parsed piece by piece (`wire`)."""

    def __init__(self, envelope: Envelope, body: bytes, request: type[Message]):
        self.envelope, self.body, self.request = envelope, body, request
        self.resources = read_request(body, request.__name__)

    def items(self) -> Iterator[Weighed]:
        """Every item, weighed by its encoded size."""
        by_trace = self.envelope.items == "spans"
        for ri, resource in enumerate(self.resources):
            for si, scope in enumerate(resource.scopes):
                for ii, (start, end) in enumerate(scope.items):
                    key = trace_id(self.body, (start, end)) if by_trace else None
                    yield Weighed((ri, si, ii), key, end - start)

    def build(self, slots: list[Slot]) -> dict[str, Any]:
        """The piece holding these slots, in OTLP/JSON; TooManyValues past MAX_ITEM_VALUES."""
        chosen: dict[int, dict[int, list[bytes]]] = {}
        for ri, si, ii in slots:
            start, end = self.resources[ri].scopes[si].items[ii]
            chosen.setdefault(ri, {}).setdefault(si, []).append(length_delimited(ITEMS, self.body[start:end]))
        wire = b"".join(length_delimited(RESOURCES, self.resources[ri].shell + b"".join(
            length_delimited(SCOPES, self.resources[ri].scopes[si].shell + b"".join(items))
            for si, items in scopes.items())) for ri, scopes in chosen.items())
        try:
            piece = self.request.FromString(wire)
        except DecodeError as exc:
            raise RecordError(f"not an {self.request.__name__}: {exc}") from exc
        return Converter(MAX_ITEM_VALUES).message(piece)


class DictCutter:
    """Pieces of a request already parsed from JSON; RecordError for an envelope that is not one."""

    def __init__(self, envelope: Envelope, record: Any):
        if not isinstance(record, dict):
            raise RecordError(f"expected an OTLP {envelope.signal} request object, got {json_kind(record)}")
        self.envelope, self.record = envelope, record

    def items(self) -> Iterator[Weighed]:
        """Every item, weighed by its JSON size."""
        env = self.envelope
        for ri, resource in enumerate(array_field(self.record, env.resources, "")):
            rpath = f"{env.resources}[{ri}]"
            require_object(resource, rpath)
            for si, scope in enumerate(array_field(resource, env.scopes, rpath)):
                require_object(scope, f"{rpath}.{env.scopes}[{si}]")
                for ii, item in enumerate(array_field(scope, env.items, f"{rpath}.{env.scopes}[{si}]")):
                    key = item.get("traceId") if env.items == "spans" and isinstance(item, dict) else None
                    yield Weighed((ri, si, ii), key if isinstance(key, str) else None, len(orjson.dumps(item)))

    def build(self, slots: list[Slot]) -> dict[str, Any]:
        """The piece holding these slots (the same JSON values, not copies)."""
        env = self.envelope
        resources: dict[int, dict[int, list[Any]]] = {}
        for ri, si, ii in slots:
            item = self.record[env.resources][ri][env.scopes][si][env.items][ii]
            resources.setdefault(ri, {}).setdefault(si, []).append(item)
        built = []
        for ri, scopes in resources.items():
            resource = self.record[env.resources][ri]
            built.append({**resource, env.scopes: [{**resource[env.scopes][si], env.items: its}
                                                  for si, its in scopes.items()]})
        return {**self.record, env.resources: built}


def pack(weighed: list[Weighed], piece_bytes: int) -> Iterator[list[Slot]]:
    """Slots in pieces of at most `piece_bytes` (an item heavier than that alone), relatives together
    while they fit, each piece in request order."""
    groups: dict[Any, list[Weighed]] = {}
    for item in weighed:
        groups.setdefault(item.slot if item.key is None else ("key", item.key), []).append(item)
    piece: list[Slot] = []
    total = 0
    for group in groups.values():
        size = sum(item.size for item in group)
        if piece and total + size > piece_bytes:
            yield sorted(piece)
            piece, total = [], 0
        for item in group:
            if piece and total + item.size > piece_bytes:
                yield sorted(piece)
                piece, total = [], 0
            piece.append(item.slot)
            total += item.size
    if piece:
        yield sorted(piece)


def piece_paths(envelope: Envelope, slots: list[Slot]) -> dict[str, str]:
    """Each item's path in the piece `build` makes of `slots` (sorted), mapped to its path in the request."""
    names: dict[str, str] = {}
    resources: dict[int, int] = {}
    scopes: dict[tuple[int, int], int] = {}
    items: dict[tuple[int, int], int] = {}
    for ri, si, ii in slots:
        pri = resources.setdefault(ri, len(resources))
        if (ri, si) not in scopes:
            scopes[(ri, si)] = sum(1 for r, _ in scopes if r == ri)
            items[(ri, si)] = 0
        names[envelope.path(pri, scopes[(ri, si)], items[(ri, si)])] = envelope.path(ri, si, ii)
        items[(ri, si)] += 1
    return names


def to_otlp_json(message: Message) -> dict[str, Any]:
    """A protobuf request in the OTLP/JSON shape: lowerCamelCase, integer enums, hex ids (not base64)."""
    return Converter(math.inf).message(message)  # type: ignore[arg-type]
