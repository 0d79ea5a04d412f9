"""The receiver's protobuf -> OTLP/JSON converter gives exactly what `json_format.MessageToDict` gives
(with hex ids): on seeded random attribute values of every kind and on the real SDK's requests; and the
pieces it cuts off a request's bytes hold every item once, with its resource and scope."""

from __future__ import annotations

import base64
import random
import re

import orjson
import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from agentwatch.ingest.formats.otlp.common import TRACES
from agentwatch.ingest.receiver.pieces import WireCutter, pack, piece_paths, to_otlp_json
from agentwatch.ingest.receiver.proto_json import Converter, TooManyValues
from tests.ingest.receiver.test_chunked import _logs_message, claude_code_logs

KINDS = ("string", "bool", "int", "double", "bytes", "array", "kvlist", "empty", "nan", "inf", "strindex")


def fill(value: AnyValue, rng: random.Random, depth: int = 0) -> None:
    """A random AnyValue; nested arrays and lists while `depth` allows."""
    kind = rng.choice(KINDS if depth < 3 else KINDS[:5])
    if kind == "string":
        value.string_value = rng.choice(["", "x", "é\u2028\0", "{\"a\": 1}"])
    elif kind == "bool":
        value.bool_value = rng.random() < 0.5
    elif kind == "int":
        value.int_value = rng.choice([0, -1, 2**63 - 1, -(2**63), 7])
    elif kind in ("double", "nan", "inf"):
        value.double_value = {"double": rng.choice([0.0, -0.0, 1.5, 1e300, 3.0]), "nan": float("nan"),
                              "inf": rng.choice([float("inf"), float("-inf")])}[kind]
    elif kind == "bytes":
        value.bytes_value = rng.randbytes(rng.randint(0, 5))
    elif kind == "strindex":
        value.string_value_strindex = rng.randint(0, 3)
    elif kind == "array":
        value.array_value.SetInParent()
        for _ in range(rng.randint(0, 3)):
            fill(value.array_value.values.add(), rng, depth + 1)
    elif kind == "kvlist":
        value.kvlist_value.SetInParent()
        for _ in range(rng.randint(0, 3)):
            pair = value.kvlist_value.values.add()
            pair.key = rng.choice(["", "k"])
            if rng.random() < 0.8:
                fill(pair.value, rng, depth + 1)


def random_request(seed: int) -> ExportTraceServiceRequest:
    rng = random.Random(seed)
    request = ExportTraceServiceRequest()
    for _ in range(2):
        resource = request.resource_spans.add()
        resource.schema_url = rng.choice(["", "https://opentelemetry.io/schemas/1.26.0"])
        for _ in range(3):
            pair = resource.resource.attributes.add()
            pair.key = "service.name"
            fill(pair.value, rng)
        scope = resource.scope_spans.add()
        scope.scope.name = "agent-sdk"
        for i in range(20):
            span = scope.spans.add()
            span.trace_id, span.span_id = rng.randbytes(16), rng.randbytes(8)
            span.parent_span_id = rng.randbytes(8) if i % 2 else b""
            span.kind, span.flags, span.status.code = i % 6, 257, i % 3
            span.start_time_unix_nano = 2**63 + i
            for _ in range(4):
                pair = span.attributes.add()
                pair.key = f"k{i}"
                fill(pair.value, rng)
            event = span.events.add()
            event.name, event.time_unix_nano = "ev", 5
            fill(event.attributes.add().value, rng)
            link = span.links.add()
            link.trace_id, link.span_id = rng.randbytes(16), rng.randbytes(8)
    return request


def reference(message) -> dict:
    """MessageToDict with OTLP/JSON's hex ids."""
    data = json_format.MessageToDict(message, use_integers_for_enums=True)

    def hexify(obj):
        if isinstance(obj, dict):
            return {k: base64.b64decode(v).hex() if k in ("traceId", "spanId", "parentSpanId") else hexify(v)
                    for k, v in obj.items()}
        return [hexify(v) for v in obj] if isinstance(obj, list) else obj

    return hexify(data)


@pytest.mark.parametrize("seed", range(5))
def test_random_requests_convert_as_message_to_dict_does(seed: int) -> None:
    request = random_request(seed)
    assert orjson.dumps(to_otlp_json(request)) == orjson.dumps(reference(request))  # order, NaN, -0.0 too


def test_sdk_logs_convert_as_message_to_dict_does() -> None:
    request = _logs_message(claude_code_logs())
    assert orjson.dumps(to_otlp_json(request)) == orjson.dumps(reference(request))


def test_values_past_the_limit_stop_the_conversion() -> None:
    value = AnyValue()
    for _ in range(10):
        value.array_value.values.add().int_value = 1
    assert Converter(10).any_value(value)["arrayValue"]["values"][0] == {"intValue": "1"}
    with pytest.raises(TooManyValues):
        Converter(9).any_value(value)


def at(record: dict, path: str) -> tuple[dict, dict, dict]:
    """The item at an envelope path, with its resource and scope (their item lists left out)."""
    ri, si, ii = map(int, re.findall(r"\[(\d+)\]", path))
    resource = record["resourceSpans"][ri]
    scope = resource["scopeSpans"][si]
    return (scope["spans"][ii], {k: v for k, v in resource.items() if k != "scopeSpans"},
            {k: v for k, v in scope.items() if k != "spans"})


@pytest.mark.parametrize("piece_bytes", [1, 600, 1 << 20], ids=["item-per-piece", "some-per-piece", "one-piece"])
def test_pieces_cut_from_the_wire_hold_every_item_with_its_resource_and_scope(piece_bytes: int) -> None:
    request = random_request(7)
    request.resource_spans[1].scope_spans.add().scope.name = "empty scope"  # no item: in no piece
    full = to_otlp_json(request)
    cutter = WireCutter(TRACES, request.SerializeToString(), ExportTraceServiceRequest)
    found = []
    for slots in pack(list(cutter.items()), piece_bytes):
        piece = cutter.build(slots)
        for path, original in piece_paths(TRACES, slots).items():
            assert at(piece, path) == at(full, original)
            found.append(original)
    assert sorted(found) == sorted(TRACES.path(ri, 0, ii) for ri in range(2) for ii in range(20))


def test_spans_of_one_trace_share_a_piece_while_they_fit() -> None:
    request = random_request(8)
    trace = request.resource_spans[0].scope_spans[0].spans[0].trace_id
    for span in list(request.resource_spans[0].scope_spans[0].spans)[::3]:
        span.trace_id = trace
    cutter = WireCutter(TRACES, request.SerializeToString(), ExportTraceServiceRequest)
    weighed = list(cutter.items())
    together = [w.slot for w in weighed if w.key == trace]
    pieces = list(pack(weighed, sum(w.size for w in weighed if w.key == trace)))
    assert any(set(together) <= set(piece) for piece in pieces)
    assert sorted(slot for piece in pieces for slot in piece) == sorted(w.slot for w in weighed)
