"""The bulk OTLP trace decoder (`ingest.formats.otlp.fast.traces`) against the per-record path: for every line the
bulk path decodes, the same events row for row (ids, seq, attrs text, flags, every column); every
line it does not decode is left to the per-record path; and whole ingests agree file for file."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from agentwatch.ingest import decode as decode_module
from agentwatch.ingest.decode import decode_line
from agentwatch.ingest.formats import get_format
from agentwatch.ingest.formats.otlp.fast import files as files_module
from agentwatch.ingest.formats.otlp.fast.traces import PreparedLines, decode_otlp_fast
from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.ingest.receiver.pieces import to_otlp_json
from agentwatch.ingest.records import FUTURE_TOLERANCE, Location
from agentwatch.sample.generate import write_sample
from agentwatch.schema import EVENT_SCHEMA
from tests.ingest.formats.otlp.test_traces import HOSTILE
from tests.support.otlp_builders import NOW, kv, request, span
from tests.support.paths import FIXTURES

FIXTURES = FIXTURES / "otlp"
CHAT = {"gen_ai.operation.name": "chat"}
TOOL = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "read_file", "gen_ai.tool.call.id": "c1"}


def both_ways(lines: list[bytes], decode_bulk: Callable[..., PreparedLines] = decode_otlp_fast,
              fmt: str = "otlp_json", source: str = "traces.jsonl") -> set[int]:
    """Decode `lines` in bulk and one by one; assert the bulk events equal the per-record ones for
    every line the bulk path took; return the line numbers it took."""
    batch = pa.table({
        "line_no": pa.array(range(1, len(lines) + 1), pa.int64()),
        "source_offset": pa.array([10 * i for i in range(len(lines))], pa.int64()),
        "line": pa.array([line.decode() for line in lines], pa.large_string()),
    })
    prepared = decode_bulk(duckdb.connect(), batch, source, fmt, NOW + FUTURE_TOLERANCE)
    events, done = prepared.take(batch.column("line_no"))
    bulk = events.to_pylist()
    taken = set(done.to_pylist())
    expected = []
    for line_no in sorted(taken):
        where = Location(fmt, source, 10 * (line_no - 1), line_no)
        expected.extend(decode_line(lines[line_no - 1], where, get_format(fmt), NOW))
    assert len(bulk) == len(expected)
    for got, want in zip(bulk, expected, strict=True):
        assert got == want
    return taken


def line(record: object) -> bytes:
    return record if isinstance(record, bytes) else orjson.dumps(record)


def sdk_lines(runs: int) -> list[bytes]:
    """GenAI agent runs recorded by the real OpenTelemetry SDK, encoded as its OTLP exporters send them
    (protobuf), turned into the OTLP/JSON lines the receiver spools."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "support-bot"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("agent-sdk", "1.0")
    for n in range(runs):
        root = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner",
                "gen_ai.conversation.id": f"conv-{n}"}
        with tracer.start_as_current_span("invoke_agent planner", attributes=root):
            chat = {**CHAT, "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 10 + n,
                    "gen_ai.usage.output_tokens": 5, "retry": n % 2 == 0,
                    "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [
                        {"type": "text", "content": f"look at file {n}: it says \"hi\" \u00e9\n"}]}]),
                    "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": [
                        {"type": "reasoning", "content": "read it"},
                        {"type": "tool_call", "id": f"call_{n}", "name": "read_file", "arguments": {"path": f"/f{n}"}},
                        {"type": "text", "content": "done"}]}])}
            with tracer.start_as_current_span("chat gpt-4o", kind=SpanKind.CLIENT, attributes=chat) as chat_span:
                if n % 3 == 0:
                    chat_span.set_status(Status(StatusCode.ERROR))
            tool = {**TOOL, "gen_ai.tool.call.id": f"call_{n}", "gen_ai.tool.call.result": f"contents {n}",
                    "gen_ai.tool.call.arguments": '{"path": "/f"}'}
            with tracer.start_as_current_span("execute_tool read_file", attributes=tool):
                pass
            helper = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "helper"}
            with (tracer.start_as_current_span("invoke_agent helper", attributes=helper),
                  tracer.start_as_current_span("GET /x", attributes={"http.method": "GET"})):
                pass
    provider.shutdown()
    spans = exporter.get_finished_spans()
    half = len(spans) // 2  # two requests: children in one, some parents in the other
    return [orjson.dumps(to_otlp_json(encode_spans(part))) for part in (spans[:half], spans[half:])]


def test_real_sdk_requests_decode_in_bulk_exactly_as_one_by_one() -> None:
    lines = sdk_lines(12)
    assert both_ways(lines) == {1, 2}


def test_fixture_and_sample_requests_agree_and_the_plain_ones_go_in_bulk(tmp_path: Path) -> None:
    write_sample(tmp_path, days=2, scale=0.3, seed=3, otlp_agent="mail-assistant", progress=None)
    sample = [raw for path in sorted(tmp_path.rglob("*.jsonl.gz")) for raw in gzip.decompress(path.read_bytes())
              .splitlines() if b'"resourceSpans"' in raw]
    lines = (FIXTURES / "genai.jsonl").read_bytes().splitlines() + sample
    taken = both_ways(lines)
    assert sample and len(taken) > len(sample) // 2


def test_hostile_records_are_left_to_the_per_record_path() -> None:
    lines = [line(record) for _, record, _ in HOSTILE]
    assert both_ways(lines) == set()


def raw_request(span_json: str) -> bytes:
    """A request around one span written as raw JSON text (for shapes a dict cannot hold)."""
    head = '{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},'
    return f'{head}"scopeSpans":[{{"scope":{{"name":"t"}},"spans":[{span_json}]}}]}}]}}'.encode()


PLAIN = ('"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","name":"chat",'
         '"startTimeUnixNano":"1767225600000000000"')
OP = '{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}}'
# Shapes where a typed parse and the per-record path could part ways: each must be decoded exactly
# alike or left to the per-record path (which keeps the last of repeated keys, flags them, ...).
BULK_HOSTILE = [
    raw_request(f'{{{PLAIN},"attributes":[{OP}]}}'),
    raw_request(f'{{{PLAIN},"name":"again","attributes":[{OP}]}}'),  # repeated key
    raw_request(f'{{{PLAIN},"attributes":[{OP},{OP}]}}'),  # repeated attribute
    raw_request(f'{{{PLAIN},"attributes":[{{"key":"k","value":{{"stringValue":5}}}}]}}'),
    raw_request(f'{{{PLAIN},"attributes":[{{"key":"k","value":{{"boolValue":1}}}}]}}'),
    raw_request(f'{{{PLAIN},"attributes":[{{"key":"k","value":{{"intValue":1.0}}}}]}}'),
    raw_request(f'{{{PLAIN},"attributes":[{{"key":"k","value":{{"intValue":"007"}}}}]}}'),
    raw_request(f'{{{PLAIN},"attributes":[{{"key":"k\\u0022:","value":{{"stringValue":"x"}}}}]}}'),
    raw_request(f'{{{PLAIN},"attributes":[{{"key":"k","value":{{"stringValue":"a\\u001b\\u000bb"}}}}]}}'),
    raw_request(f'{{{PLAIN},"attributes":[{{"key":"k","value":{{"stringValue":"a\\\\u001B\\u001bb"}}}}]}}'),
    raw_request(f'{{{PLAIN},"attributes":[{{"key":"k","value":{{"stringValue":"\\ud800"}}}}]}}'),
    raw_request(f'{{{PLAIN},"attributes":[{OP}],"futureField":{{"a":1}}}}'),
    raw_request(f'{{{PLAIN},"attributes":[{OP}],"flags":"256"}}'),
    raw_request(f'{{{PLAIN},"attributes":[{OP}],"kind":"SPAN_KIND_CLIENT"}}'),
    raw_request(f'{{{PLAIN},"attributes":[{OP}],"kind":9,"status":{{"code":2}}}}'),
    raw_request(f'{{{PLAIN},"attributes":[{OP}],"status":{{"code":1,"message":"fine"}}}}'),
    raw_request(f'{{{PLAIN},"attributes":[{OP}],"startTimeUnixNano":1767225600000000000}}'),  # repeated
    raw_request(f'{{{PLAIN},"attributes":[{OP}],"endTimeUnixNano":"1"}}'),  # ends before it starts
    raw_request(f'{{{PLAIN},"attributes":[{OP}],"endTimeUnixNano":"9223372036854775807"}}'),  # seq overflows
    raw_request(f'{{{PLAIN},"attributes":[{OP}],"events":[]}}'),
    raw_request(f'{{{PLAIN},"attributes":[null]}}'),
    b"\xef\xbb\xbf" + raw_request(f'{{{PLAIN},"attributes":[{OP}]}}'),
    raw_request(f'{{{PLAIN},"attributes":[{OP}],"x":NaN}}'),
    b'{"resourceSpans":[]}',
    b'{"resourceSpans":[],"resourceSpans":[1]}',
    b'{"resourceSpans":[{}]}',
    b"{}",
    b"[]",
]


def test_shapes_a_typed_parse_could_misread_agree_or_go_one_by_one() -> None:
    # in bulk: plain, "007", control characters, kind 9 with an error status, an end before the start,
    # empty span events, empty requests; every other line is left to the per-record path
    assert both_ways(BULK_HOSTILE) == {1, 7, 9, 15, 18, 20, 24, 26}


def test_mapping_cases_agree() -> None:
    msgs = json.dumps
    cases = [
        request(span(attributes={**CHAT, "gen_ai.input.messages": msgs([
            {"role": "user", "parts": [{"type": "text", "content": "a"}]},
            {"role": "assistant", "parts": [{"type": "text", "content": "b"}]},
            {"role": "user", "parts": [{"type": "text", "content": "c"}]}])})),  # history
        request(span(attributes={**CHAT, "gen_ai.output.messages": msgs([
            {"role": "Assistant", "parts": [{"type": "tool_call", "id": "1", "name": "x", "arguments": "{\"a\": 1}"},
                                            {"type": "thinking", "content": "hm"}]}])})),
        request(span(attributes={**CHAT, "gen_ai.output.messages": msgs([
            {"role": "robot", "parts": [{"type": "text", "content": "?"}]}])})),  # unknown role
        request(span(attributes={**CHAT, "gen_ai.output.messages": msgs([
            {"role": "assistant", "parts": [{"type": "tool_call", "id": "1", "arguments": {"a": {"b": 1}}}]}])})),
        request(span(attributes={**CHAT, "gen_ai.output.messages": (
            '[{"role": "assistant", "parts": [{"type": "tool_call", "id": "1", "arguments": {"a": 1, "a": 2}}]}]')})),
        request(span(attributes={**CHAT, "gen_ai.input.messages": msgs([
            {"role": "tool", "parts": [{"type": "tool_call_response", "id": "1", "response": "ok: fine"}]}])})),
        request(span(attributes={**TOOL, "gen_ai.tool.name": ""}, name="execute_tool \u2003grep\u00a0")),
        request(span(attributes={"gen_ai.operation.name": "embeddings", "span": "mine", "part": 1})),
        request(span(attributes={"gen_ai.operation.name": "error"})),
        request(span(attributes={**CHAT, "gen_ai.agent.id": "a1", "gen_ai.agent.name": "n",
                                 "gen_ai.response.model": "m2", "gen_ai.request.model": "m1",
                                 "gen_ai.usage.input_tokens": 3})),
        request(span(attributes=CHAT, startTimeUnixNano=str(int(1e18) * 9))),  # far future
        request(
            span("00f067aa0ba902b7", {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.id": "boss",
                                       "gen_ai.conversation.id": "s1"}),
            span("00f067aa0ba902b8", {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.id": "worker"},
                 parentSpanId="00f067aa0ba902b7"),
            span("00f067aa0ba902b9", {"gen_ai.operation.name": "invoke_agent", "gen_ai.conversation.id": "s2"},
                 parentSpanId="00f067aa0ba902b8"),
            span("00f067aa0ba902ba", CHAT, parentSpanId="00f067aa0ba902b9"),
        ),
        request(span("00f067aa0ba902b7", CHAT, parentSpanId="00f067aa0ba902b8"),
                span("00f067aa0ba902b8", CHAT, parentSpanId="00f067aa0ba902b7")),  # a cycle
        request(span(attributes=CHAT), service=None),
        {"resourceSpans": [{"resource": {"attributes": kv({"service.name": 7})},
                            "scopeSpans": [{"scope": {"name": "v"}, "spans": [span(attributes=CHAT)]}]}]},
        {"resourceSpans": [{"resource": {"attributes": kv({"service.name": "s", "n": 1})},
                            "scopeSpans": [{"scope": {"version": "2", "name": "v"},
                                            "spans": [span(attributes=CHAT)]}]}]},
    ]
    taken = both_ways([line(c) for c in cases])
    # not in bulk: an input history, an unknown role, nested or repeated tool arguments, a cycle, no agent
    assert taken == {2, 6, 7, 8, 9, 10, 11, 12, 16}


def lake_rows(lake: Path, table: str) -> list[dict]:
    files = sorted((lake / table).rglob("*.parquet"))
    rows = [row for f in files for row in pq.read_table(f).to_pylist()]
    for row in rows:
        row.pop("batch_id", None), row.pop("quarantined_at", None)
    return sorted(rows, key=lambda r: (r.get("source_offset"), str(r.get("event_id")), str(r.get("reason"))))


@pytest.mark.parametrize("hostile", [False, True])
def test_a_whole_ingest_is_the_same_with_and_without_the_bulk_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hostile: bool
) -> None:
    """Several files decoded together in bulk (as the receiver's spool is), gzip among them."""
    secret = request(span(attributes={**CHAT, "note": "key sk-proj-" + "A1b2C3d4" * 6}))
    first, second = sdk_lines(6)
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.jsonl").write_bytes(first + b"\n")
    (inputs / "b.jsonl.gz").write_bytes(gzip.compress(b"\n".join([second, b"", line(secret)])))
    if hostile:
        (inputs / "c.jsonl").write_bytes(b"\n".join([line(r) for _, r, _ in HOSTILE] + BULK_HOSTILE) + b"\n")
    with_bulk = ingest_paths(tmp_path / "bulk", [inputs], fmt="otlp_json", now=NOW)
    empty = EVENT_SCHEMA.empty_table().append_column("line_no", pa.array([], pa.int64()))
    nothing = PreparedLines(empty, pa.array([], pa.int64()))
    for module in (decode_module, files_module):
        monkeypatch.setattr(module, "decode_otlp_fast", lambda *args: nothing)
    one_by_one = ingest_paths(tmp_path / "single", [inputs], fmt="otlp_json", now=NOW)
    keys = ("records_read", "records_decoded", "blank_lines", "events_decoded", "items_decoded", "events_written",
            "quarantined", "redactions", "status")
    assert [[getattr(f, k) for k in keys] for f in with_bulk.files] == [
        [getattr(f, k) for k in keys] for f in one_by_one.files]
    assert with_bulk.files[1].redactions > 0 and with_bulk.files[1].events_written > 0
    assert with_bulk.files[0].items_decoded + with_bulk.files[1].items_decoded == 6 * 5 + 1  # SDK spans, secret's
    for table in ("events", "_quarantine"):
        assert lake_rows(tmp_path / "bulk", table) == lake_rows(tmp_path / "single", table)


def test_trace_files_between_log_files_are_decoded_in_one_bulk_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A spool interleaves traces and logs: the trace files still form one group."""
    first, second = sdk_lines(4)
    inputs = tmp_path / "spool"
    inputs.mkdir()
    (inputs / "1.jsonl").write_bytes(first + b"\n")
    (inputs / "2.jsonl").write_bytes((FIXTURES / "claude_code_logs.jsonl").read_bytes())
    (inputs / "3.jsonl").write_bytes(second + b"\n")
    calls = []

    def counted(*args: object) -> PreparedLines:
        calls.append(args)
        return decode_otlp_fast(*args)

    monkeypatch.setattr(files_module, "decode_otlp_fast", counted)
    report = ingest_paths(tmp_path / "lake", [inputs], now=NOW)
    assert [f.format for f in report.files] == ["otlp_json", "otlp_logs", "otlp_json"]
    assert len(calls) == 1 and all(f.reconciles() and f.events_written for f in report.files)
    assert report.files[0].records_decoded == report.files[2].records_decoded == 1
