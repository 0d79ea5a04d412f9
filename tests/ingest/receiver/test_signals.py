"""The receiver's other doors and edges: the logs signal over HTTP, traces and logs over gRPC (the real
OpenTelemetry SDK exporters in every case), gzip bodies of several members, slow senders, and a
memory budget by bytes in flight."""

from __future__ import annotations

import gzip
import http.client
import socket
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource

from agentwatch.cli import cli
from agentwatch.ingest.receiver import http_server as receiver_module
from agentwatch.ingest.receiver.grpc_server import serve_grpc, stop_grpc
from agentwatch.ingest.receiver.http_server import InFlight, ReceiverServer, serve_receiver, stop_receiver
from agentwatch.ingest.receiver.spool import default_spool_dir, spooled_files
from agentwatch.lake import Lake
from tests.ingest.receiver.test_http_server import JSON, RUNS, post, run_agents, sdk_request, traced
from tests.support.otlp_builders import decode

SESSION = "b1e8c6d2-5a4f-4c3b-9e21-7d0f6a5b4c31"


def spooled_log_rows(folder: Path) -> list[dict]:
    return [row for path in spooled_files(folder) for line in path.read_bytes().splitlines()
            for row in decode(line, fmt="otlp_logs", source=str(path))]


def emit_claude_code_events(provider: LoggerProvider) -> None:
    """What Claude Code logs for one prompt: the prompt, the model call, a tool decision and result."""
    logger = provider.get_logger("com.anthropic.claude_code.events", "2.0.14")
    common = {"session.id": SESSION, "prompt.id": "p-1", "user.email": "dev@example.com"}
    events = [
        ("user_prompt", {"prompt": "run the tests", "prompt_length": "13"}),
        ("api_request", {"model": "claude-sonnet-4-5", "input_tokens": "10", "output_tokens": "20",
                         "cache_read_tokens": "5", "cache_creation_tokens": "0", "cost_usd": "0.001"}),
        ("tool_decision", {"tool_name": "Bash", "decision": "accept", "source": "user_temporary",
                           "tool_use_id": "toolu_1"}),
        ("tool_result", {"tool_name": "Bash", "success": "true", "duration_ms": "120", "tool_use_id": "toolu_1",
                         "tool_parameters": '{"bash_command":"pytest"}'}),
    ]
    for n, (name, attrs) in enumerate(events):
        logger.emit(body=f"claude_code.{name}", timestamp=1_764_597_600_000_000_000 + n * 1_000_000_000,
                    attributes={**common, "event.name": name, "event.sequence": n, **attrs})


def logged(exporter: object) -> LoggerProvider:
    provider = LoggerProvider(resource=Resource.create({"service.name": "claude-code"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    return provider


EXPECTED_LOG_TYPES = ["user_prompt", "llm_response", "approval", "tool_call", "tool_result"]


def test_sdk_log_exporter_over_http_lands_claude_code_events(receiver: ReceiverServer) -> None:
    url = f"http://127.0.0.1:{receiver.server_address[1]}/v1/logs"
    provider = logged(HttpLogExporter(endpoint=url, timeout=10))
    emit_claude_code_events(provider)
    provider.shutdown()
    rows = spooled_log_rows(receiver.spool.folder)
    assert sorted((r["seq"], r["event_type"]) for r in rows) == sorted(
        zip(sorted(r["seq"] for r in rows), EXPECTED_LOG_TYPES, strict=True))
    assert {(r["agent_id"], r["session_id"]) for r in rows} == {("claude-code", SESSION)}
    assert next(r for r in rows if r["event_type"] == "llm_response")["input_tokens"] == 15


def test_bad_log_records_are_rejected_partially_over_http(receiver: ReceiverServer) -> None:
    good = {"timeUnixNano": "1767225600000000000", "body": {"stringValue": "ok"},
            "traceId": "4bf92f3577b34da6a3ce929d0e0e4736"}
    orphan = {"timeUnixNano": "1767225600000000000", "body": {"stringValue": "who am I"}}
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "app"}}]}
    body = {"resourceLogs": [{"resource": resource, "scopeLogs": [{"logRecords": [good, orphan]}]}]}
    status, _, reply = post(receiver, orjson.dumps(body), JSON, path="/v1/logs")
    assert status == 200
    assert orjson.loads(reply)["partialSuccess"]["rejectedLogRecords"] == "1"
    (path,) = spooled_files(receiver.spool.folder)
    accepted, rejected = path.read_bytes().splitlines()
    assert [r["text"] for r in decode(accepted, fmt="otlp_logs")] == ["ok"]
    assert b"who am I" in rejected


def test_sdk_span_and_log_exporters_over_grpc_land_in_the_lake(lake: Path) -> None:
    spool = default_spool_dir(lake)
    grpc_receiver = serve_grpc(spool, "127.0.0.1", 0)
    try:
        endpoint = f"http://127.0.0.1:{grpc_receiver.port}"
        provider, memory = traced(GrpcSpanExporter(endpoint=endpoint, insecure=True, timeout=10), batch=True)
        run_agents(provider)
        provider.shutdown()
        logs = logged(GrpcLogExporter(endpoint=endpoint, insecure=True, timeout=10))
        emit_claude_code_events(logs)
        logs.shutdown()
    finally:
        stop_grpc(grpc_receiver)
    result = CliRunner().invoke(cli, ["--lake", str(lake), "ingest"])
    assert result.exit_code == 0, result.output
    con = Lake(lake).connect()
    spans = {format(s.context.span_id, "016x") for s in memory.get_finished_spans()}
    assert {r for (r,) in con.execute("select distinct span_id from events where source_format = 'otlp_json'")
            .fetchall()} == spans
    types = con.execute("select event_type from events where source_format = 'otlp_logs' order by seq").fetchall()
    assert [t for (t,) in types] == EXPECTED_LOG_TYPES
    assert con.execute("select count(distinct session_id) from events where source_format = 'otlp_json'"
                       ).fetchall() == [(RUNS,)]  # batches split runs: reconciled into one session each


def test_grpc_refuses_when_bytes_in_flight_are_spent(tmp_path: Path) -> None:
    budget = InFlight(1000)
    grpc_receiver = serve_grpc(tmp_path / "spool", "127.0.0.1", 0, in_flight=budget)
    try:
        assert budget.reserve(900)  # as if another request were being decoded
        exporter = GrpcSpanExporter(endpoint=f"http://127.0.0.1:{grpc_receiver.port}", insecure=True, timeout=2)
        provider, memory = traced(None, batch=False)
        run_agents(provider, 1)
        provider.shutdown()
        from opentelemetry.sdk.trace.export import SpanExportResult

        assert exporter.export(memory.get_finished_spans()) == SpanExportResult.FAILURE
        budget.release(900)
        assert exporter.export(memory.get_finished_spans()) == SpanExportResult.SUCCESS
        exporter.shutdown()
    finally:
        stop_grpc(grpc_receiver)
    assert len(spooled_files(tmp_path / "spool")) == 1


# --- gzip -------------------------------------------------------------------------------------

def test_every_gzip_member_is_decoded(receiver: ReceiverServer) -> None:
    data, sent = sdk_request()
    body = orjson.dumps(data)
    half = len(body) // 2
    two_members = gzip.compress(body[:half]) + gzip.compress(body[half:])  # `cat a.gz b.gz`
    status, _, _ = post(receiver, two_members, JSON, headers={"Content-Encoding": "gzip"})
    assert status == 200
    rows = [r for p in spooled_files(receiver.spool.folder) for line in p.read_bytes().splitlines()
            for r in decode(line)]
    assert {r["span_id"] for r in rows} == {format(s.context.span_id, "016x") for s in sent}


@pytest.mark.parametrize("tail", [b"garbage", gzip.compress(b"x")[:-4]], ids=["trailing-bytes", "truncated-member"])
def test_gzip_with_trailing_bytes_or_a_cut_member_is_refused(receiver: ReceiverServer, tail: bytes) -> None:
    data, _ = sdk_request(1)
    status, _, reply = post(receiver, gzip.compress(orjson.dumps(data)) + tail, JSON,
                            headers={"Content-Encoding": "gzip"})
    assert status == 400 and orjson.loads(reply)["message"].startswith("bad gzip body")
    assert spooled_files(receiver.spool.folder) == []


# --- slow senders and the memory budget -------------------------------------------------------

def slow_sender(port: int, declared: int) -> socket.socket:
    """A client that declares a body and then sends it one byte at a time (never finishing)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {declared}\r\n\r\n".encode())
    sock.sendall(b"{")
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    try:
        data = sock.recv(1024)
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return data == b"" or data.startswith(b"HTTP/1.1 408")  # EOF, or a 408 it managed to send


def test_slow_senders_are_cut_at_the_deadline_and_never_starve_good_ones(
    receiver: ReceiverServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(receiver_module, "REQUEST_SECONDS", 2)
    port = receiver.server_address[1]
    slow = [slow_sender(port, 100_000) for _ in range(8)]
    try:
        data, _ = sdk_request(1)
        started = time.monotonic()
        for _ in range(5):
            assert post(receiver, orjson.dumps(data), JSON)[0] == 200
        assert time.monotonic() - started < 2  # served while the slow ones trickle
        for sock in slow:
            sock.settimeout(5)
            assert closed_by_server(sock)
    finally:
        for sock in slow:
            sock.close()
    assert len(spooled_files(receiver.spool.folder)) == 5
    wait_for(lambda: receiver.in_flight.used == 0)  # the handlers finish after the EOF


def test_bytes_in_flight_over_the_budget_get_503_until_released(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(receiver_module, "REQUEST_SECONDS", 3)
    server = serve_receiver(tmp_path / "spool", port=0, in_flight=InFlight(1_000_000))
    try:
        big, _ = sdk_request(1)
        padded = orjson.dumps({**big, "padding": "x" * 200_000})  # an unknown field, ignored by OTLP
        hog = slow_sender(server.server_address[1], 950_000)
        hog.sendall(b" " * 899_999)  # 900 kB sent, and then nothing: those bytes are held
        deadline = time.monotonic() + 2
        while server.in_flight.used < 900_000 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.in_flight.used == 900_000
        status, headers, _ = post(server, padded, JSON)
        assert (status, headers["Retry-After"]) == (503, "1")  # 900 kB held + 200 kB > 1 MB: retry later
        assert post(server, orjson.dumps(big), JSON)[0] == 200  # small ones still fit
        hog.settimeout(5)
        assert closed_by_server(hog)
        hog.close()
        wait_for(lambda: server.in_flight.used == 0)
        assert post(server, padded, JSON)[0] == 200
    finally:
        stop_receiver(server)
    assert len(spooled_files(tmp_path / "spool")) == 2


def wait_for(condition: Callable[[], bool], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert condition()


def test_a_short_body_is_refused_not_stored(receiver: ReceiverServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", receiver.server_address[1], timeout=10)
    conn.putrequest("POST", "/v1/traces")
    conn.putheader("Content-Type", JSON)
    conn.putheader("Content-Length", "100")
    conn.endheaders()
    conn.send(b'{"resourceSpans": []}')
    conn.sock.shutdown(socket.SHUT_WR)
    assert conn.getresponse().status == 400
    conn.close()
    assert spooled_files(receiver.spool.folder) == []
