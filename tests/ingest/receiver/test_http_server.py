"""The OTLP/HTTP receiver, driven by the real OpenTelemetry SDK and exporter over loopback."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import socket
import subprocess
from pathlib import Path

import orjson
import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from agentwatch.errors import RecordError
from agentwatch.ingest.receiver.http_server import ReceiverServer, request_to_otlp_json, serve_receiver, stop_receiver
from agentwatch.ingest.receiver.spool import Spool, spooled_files
from tests.support.otlp_builders import decode, request, span

PROTOBUF, JSON = "application/x-protobuf", "application/json"
RUNS = 6  # agent runs per test, 3 spans each
EXPECTED_TYPES = {
    "invoke_agent planner": ["system_prompt"],
    "chat gpt-4o": ["user_prompt", "tool_call", "llm_response"],
    "execute_tool read_file": ["tool_call", "tool_result"],
}


def endpoint(server: ReceiverServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/v1/traces"


def run_agents(provider: TracerProvider, runs: int = RUNS) -> None:
    """Agent runs with GenAI attributes: an invoke_agent span over a chat call and a tool call."""
    tracer = provider.get_tracer("agent-sdk", "1.0")
    for n in range(runs):
        root = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner",
                "gen_ai.conversation.id": f"conv-{n}"}
        with tracer.start_as_current_span("invoke_agent planner", attributes=root):
            chat = {
                "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 10 + n, "gen_ai.usage.output_tokens": 5,
                "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [{"type": "text", "content": "q"}]}]),
                "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": [
                    {"type": "tool_call", "id": f"call_{n}", "name": "read_file", "arguments": {"path": f"/f{n}"}}]}]),
            }
            with tracer.start_as_current_span("chat gpt-4o", kind=SpanKind.CLIENT, attributes=chat):
                pass
            tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "read_file",
                    "gen_ai.tool.call.id": f"call_{n}", "gen_ai.tool.call.result": f"contents {n}"}
            with tracer.start_as_current_span("execute_tool read_file", attributes=tool):
                pass


def traced(exporter: OTLPSpanExporter | None, batch: bool) -> tuple[TracerProvider, InMemorySpanExporter]:
    provider = TracerProvider(resource=Resource.create({"service.name": "support-bot"}))
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    if exporter is not None:
        processor = BatchSpanProcessor(exporter, max_export_batch_size=4) if batch else SimpleSpanProcessor(exporter)
        provider.add_span_processor(processor)
    return provider, memory


def spooled_rows(server: ReceiverServer) -> list[dict]:
    return [row for path in spooled_files(server.spool.folder) for line in path.read_bytes().splitlines()
            for row in decode(line, source=str(path))]


def assert_each_span_decoded_once(rows: list[dict], sent: tuple[ReadableSpan, ...]) -> None:
    by_span: dict[str, list[str]] = {}
    for row in rows:
        by_span.setdefault(row["span_id"], []).append(row["event_type"])
    expected = {format(s.context.span_id, "016x"): EXPECTED_TYPES[s.name] for s in sent}
    assert by_span == expected
    assert len({row["event_id"] for row in rows}) == len(rows)


@pytest.mark.parametrize(("batch", "compression"), [(True, Compression.NoCompression), (False, Compression.Gzip)],
                         ids=["batch-plain", "simple-gzip"])
def test_sdk_exporter_spans_arrive_decoded_exactly_once(
    receiver: ReceiverServer, batch: bool, compression: Compression
) -> None:
    provider, memory = traced(OTLPSpanExporter(endpoint=endpoint(receiver), compression=compression), batch)
    run_agents(provider)
    assert provider.force_flush()
    provider.shutdown()
    sent = memory.get_finished_spans()
    assert len(sent) == 3 * RUNS
    rows = spooled_rows(receiver)
    assert_each_span_decoded_once(rows, sent)
    chats = sorted((r["input_tokens"], r["model"]) for r in rows if r["event_type"] == "llm_response")
    assert chats == [(10 + n, "gpt-4o") for n in range(RUNS)]
    assert {r["agent_id"] for r in rows} <= {"planner", "support-bot"}
    files = spooled_files(receiver.spool.folder)
    assert len(files) == (-(-3 * RUNS // 4) if batch else 3 * RUNS)  # one file per export request
    assert all(not p.name.startswith(".") for p in receiver.spool.folder.iterdir())


def post(server: ReceiverServer, body: bytes, content_type: str | None, *, path: str = "/v1/traces",
         method: str = "POST", headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    try:
        all_headers = dict(headers or {})
        if content_type:
            all_headers["Content-Type"] = content_type
        conn.request(method, path, body=body if method == "POST" else None, headers=all_headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def sdk_request(runs: int = 2) -> tuple[dict, tuple[ReadableSpan, ...]]:
    provider, memory = traced(None, batch=False)
    run_agents(provider, runs)
    provider.shutdown()
    return request_to_otlp_json(encode_spans(memory.get_finished_spans())), memory.get_finished_spans()


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_json_encoding_is_accepted_and_answered_in_json(receiver: ReceiverServer, gzipped: bool) -> None:
    data, sent = sdk_request()
    body = orjson.dumps(data)
    headers = {"Content-Encoding": "gzip"} if gzipped else {}
    status, reply_headers, reply = post(receiver, gzip.compress(body) if gzipped else body, JSON, headers=headers)
    assert (status, reply_headers["Content-Type"], orjson.loads(reply)) == (200, JSON, {})
    assert_each_span_decoded_once(spooled_rows(receiver), sent)


def test_protobuf_encoding_is_answered_in_protobuf(receiver: ReceiverServer) -> None:
    provider, memory = traced(None, batch=False)
    run_agents(provider, 1)
    provider.shutdown()
    body = encode_spans(memory.get_finished_spans()).SerializeToString()
    status, headers, reply = post(receiver, body, PROTOBUF)
    assert (status, headers["Content-Type"]) == (200, PROTOBUF)
    assert not ExportTraceServiceResponse.FromString(reply).HasField("partial_success")
    assert_each_span_decoded_once(spooled_rows(receiver), memory.get_finished_spans())


def test_bad_spans_are_rejected_partially_and_spooled_for_quarantine(receiver: ReceiverServer) -> None:
    good = span("00f067aa0ba902b7", {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "ls"})
    bad = span("00f067aa0ba902b8", {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": "12"})
    status, _, reply = post(receiver, orjson.dumps(request(good, bad)), JSON)
    assert status == 200
    assert orjson.loads(reply) == {"partialSuccess": {
        "rejectedSpans": "1",
        "errorMessage": "resourceSpans[0].scopeSpans[0].spans[1]: "
                        "attributes['gen_ai.usage.input_tokens']: expected integer, got string",
    }}
    (path,) = spooled_files(receiver.spool.folder)
    accepted, rejected = path.read_bytes().splitlines()
    assert [(r["span_id"], r["event_type"]) for r in decode(accepted)] == [
        ("00f067aa0ba902b7", "tool_call"), ("00f067aa0ba902b7", "tool_result")]
    with pytest.raises(RecordError) as caught:
        decode(rejected)
    assert caught.value.message == (
        "resourceSpans[0].scopeSpans[0].spans[0].attributes['gen_ai.usage.input_tokens']: expected integer, got string")


def test_protobuf_partial_success_reports_bad_ids(receiver: ReceiverServer) -> None:
    provider, memory = traced(None, batch=False)
    run_agents(provider, 1)
    provider.shutdown()
    message = encode_spans(memory.get_finished_spans())
    message.resource_spans[0].scope_spans[0].spans[0].span_id = b"\x01\x02\x03"
    status, _, reply = post(receiver, message.SerializeToString(), PROTOBUF)
    partial = ExportTraceServiceResponse.FromString(reply).partial_success
    assert (status, partial.rejected_spans) == (200, 1)
    assert partial.error_message == (
        "resourceSpans[0].scopeSpans[0].spans[0]: spanId: expected 16 hex digits, got '010203'")


ERRORS = [
    ("other content type", "/v1/traces", "POST", b"hello", "text/plain", {}, 415),
    ("other encoding", "/v1/traces", "POST", b"{}", JSON, {"Content-Encoding": "br"}, 415),
    ("malformed JSON", "/v1/traces", "POST", b"{not json", JSON, {}, 400),
    ("JSON not a request", "/v1/traces", "POST", b"[]", JSON, {}, 400),
    ("malformed protobuf", "/v1/traces", "POST", b"\x0a\x05\xff", PROTOBUF, {}, 400),
    ("bad gzip", "/v1/traces", "POST", b"not gzip", JSON, {"Content-Encoding": "gzip"}, 400),
    ("other path", "/v1/profiles", "POST", b"{}", JSON, {}, 404),
    ("other method", "/v1/traces", "GET", b"", JSON, {}, 405),
    ("other method elsewhere", "/", "DELETE", b"", None, {}, 404),
]


@pytest.mark.parametrize(("path", "method", "body", "content_type", "headers", "expected"),
                         [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_refused_requests_get_their_status_and_spool_nothing(
    receiver: ReceiverServer, path: str, method: str, body: bytes, content_type: str | None,
    headers: dict[str, str], expected: int,
) -> None:
    status, reply_headers, reply = post(receiver, body, content_type, path=path, method=method, headers=headers)
    assert status == expected
    assert spooled_files(receiver.spool.folder) == []
    if expected == 405:
        assert reply_headers["Allow"] == "POST"
    if expected == 400 and content_type == JSON:
        assert orjson.loads(reply)["code"] == 3
    if expected == 400 and content_type == PROTOBUF:
        assert reply.startswith(b"\x08\x03\x12")  # google.rpc.Status{code: 3, message: ...}


def test_json_envelope_errors_name_what_is_wrong(receiver: ReceiverServer) -> None:
    status, _, reply = post(receiver, b'{"resourceSpans": 5}', JSON)
    assert (status, orjson.loads(reply)) == (400, {"code": 3, "message": "resourceSpans: expected array, got number"})


def test_missing_content_length_is_refused(receiver: ReceiverServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", receiver.server_address[1], timeout=10)
    try:
        conn.putrequest("POST", "/v1/traces")
        conn.putheader("Content-Type", JSON)
        conn.endheaders()
        assert conn.getresponse().status == 411
    finally:
        conn.close()


def test_empty_request_is_acknowledged_without_a_spool_file(receiver: ReceiverServer) -> None:
    assert post(receiver, b"{}", JSON)[0] == 200
    assert post(receiver, b"", PROTOBUF)[0] == 200
    assert spooled_files(receiver.spool.folder) == []


def test_stop_releases_the_port(tmp_path: Path) -> None:
    server = serve_receiver(tmp_path / "spool", port=0)
    port = server.server_address[1]
    assert post(server, b"{}", JSON)[0] == 200
    stop_receiver(server)
    assert server.thread is not None and not server.thread.is_alive()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_spool_lists_complete_files_in_order_and_keeps_seq_monotone(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    folder.mkdir()
    ahead = folder / f"{9 * 10**19:020d}-old.jsonl"
    ahead.write_bytes(b"{}\n")
    dead = subprocess.Popen(["true"])
    dead.wait()
    crashed = folder / f".x.jsonl.{dead.pid}.tmp"  # a writer killed mid-write: its process is gone
    crashed.write_bytes(b"{")
    older = folder / ".00000000000000000001-x.jsonl.tmp"  # the old name, without a process
    older.write_bytes(b"{")
    writing = folder / f".y.jsonl.{os.getppid()}.tmp"  # a live writer's: left alone
    writing.write_bytes(b"{")
    (folder / "notes.txt").write_text("not spool")
    spool = Spool(folder)
    written = spool.write([b'{"resourceSpans": []}'])
    assert sorted(spool.leftovers) == sorted([crashed, older])
    assert spooled_files(folder) == [ahead, written]
    assert int(written.name.split("-")[0]) == 9 * 10**19 + 1
    assert written.read_bytes() == b'{"resourceSpans": []}\n'
    assert sorted(p.name for p in folder.iterdir()) == sorted([ahead.name, written.name, writing.name, "notes.txt"])
