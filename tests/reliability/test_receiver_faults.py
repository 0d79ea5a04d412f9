"""The receiver under faults and abuse (issue 25: 2, 3, 5, 7): each test makes its fault happen, checks
that it did, and checks that nothing acknowledged is lost and nothing partial is left."""

from __future__ import annotations

import errno
import http.client
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import orjson
import pytest
from click.testing import CliRunner
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.trace.export import SpanExportResult

from agentwatch.cli import cli
from agentwatch.ingest.reader import MAX_LINE_BYTES
from agentwatch.ingest.receiver import http_server as receiver_module
from agentwatch.ingest.receiver import spool as spool_module
from agentwatch.ingest.receiver.grpc_server import serve_grpc, stop_grpc
from agentwatch.ingest.receiver.http_server import ReceiverServer, serve_receiver, stop_receiver
from agentwatch.ingest.receiver.pieces import to_otlp_json
from agentwatch.ingest.receiver.spool import default_spool_dir, spooled_files
from agentwatch.lake import Lake
from tests.ingest.receiver.test_http_server import run_agents, traced
from tests.reliability.receiver_support import ThrottledProxy, span_ids, spans_request

PROTOBUF, JSON = "application/x-protobuf", "application/json"


@pytest.fixture
def receiver(lake: Path) -> Iterator[ReceiverServer]:
    server = serve_receiver(default_spool_dir(lake), host="127.0.0.1", port=0)
    yield server
    stop_receiver(server)


def post(port: int, body: bytes, content_type: str = PROTOBUF, timeout: float = 120) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/v1/traces", body=body, headers={"Content-Type": content_type})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def ingest(lake: Path) -> str:
    result = CliRunner().invoke(cli, ["--lake", str(lake), "ingest"])
    assert result.exit_code == 0, result.output
    return result.output


def stored_spans(lake: Path) -> dict[str, int]:
    """Events per span id in the lake."""
    rows = Lake(lake).connect().execute("select span_id, count(*) from events group by span_id").fetchall()
    return dict(rows)


# --- 2: an acknowledged request is never lost, however its JSON compares with ingest's line limit ---

@pytest.mark.slow
def test_a_16_mb_request_of_array_spans_is_stored_whole(receiver: ReceiverServer, lake: Path) -> None:
    request = spans_request(10, seed=2, array_values=400_000)  # 16 MB; as one OTLP/JSON line, ~70 MB
    body = request.SerializeToString()
    assert len(body) > 16_000_000
    status, reply = post(receiver.server_address[1], body)
    assert status == 200 and not ExportTraceServiceResponse.FromString(reply).HasField("partial_success")
    lines = [len(line) for path in spooled_files(receiver.spool.folder) for line in path.read_bytes().splitlines()]
    assert sum(lines) > MAX_LINE_BYTES >= max(lines)  # the fault: the request is longer than a line may be
    assert "+ 0 quarantined" in ingest(lake)
    assert stored_spans(lake) == dict.fromkeys(span_ids(request), 2)  # tool call and result, 10/10 spans


# --- 3: one slow socket cannot hold the receiver -------------------------------------------------

class SlowSender:
    """Declares a 64 MiB body, sends a byte every 0.1 s, and connects again whenever it is cut."""

    def __init__(self, port: int):
        self.port, self.cuts, self.stop = port, 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
                    sock.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                                 b"Content-Length: 67108864\r\n\r\n")
                    while not self.stop.wait(0.1) and not _answered(sock):
                        sock.sendall(b"\n")
            except OSError:
                pass
            self.cuts += 1


def _answered(sock: socket.socket) -> bool:
    """Whether the server answered (a 408) or closed the connection."""
    try:
        sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return False
    return True


def test_a_slow_http_sender_beside_the_real_sdk_costs_it_nothing(
    receiver: ReceiverServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(receiver_module, "REQUEST_SECONDS", 1)
    slow = SlowSender(receiver.server_address[1])
    try:
        exporter = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{receiver.server_address[1]}/v1/traces", timeout=10)
        provider, memory = traced(None, batch=False)
        run_agents(provider, 10)
        provider.shutdown()
        started = time.monotonic()
        spans = memory.get_finished_spans()
        results = [exporter.export(spans[i:i + 3]) for i in range(0, len(spans), 3)]
        while slow.cuts < 2 and time.monotonic() - started < 10:  # the slow sender was cut and came back
            time.sleep(0.1)
    finally:
        slow.stop.set()
        slow.thread.join(10)
    assert results == [SpanExportResult.SUCCESS] * 10
    assert slow.cuts >= 2
    assert len(spooled_files(receiver.spool.folder)) == 10


def test_slow_grpc_senders_beside_a_normal_one_cost_it_nothing(lake: Path) -> None:
    grpc_receiver = serve_grpc(default_spool_dir(lake), "127.0.0.1", 0)
    proxy = ThrottledProxy(grpc_receiver.port, fast_bytes=2048, pause=0.01)
    slow_calls: list[Any] = []
    try:
        big = spans_request(2000, seed=3)  # ~200 kB: its message trickles through the proxy
        for _ in range(6):  # more than the old server's four workers, each on a connection of its own
            channel = grpc.insecure_channel(f"127.0.0.1:{proxy.port}", options=[("grpc.use_local_subchannel_pool", 1)])
            export = trace_service_pb2_grpc.TraceServiceStub(channel).Export
            slow_calls.append((channel, export.future(big, timeout=60)))
        deadline = time.monotonic() + 10
        while proxy.trickled < 600 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proxy.trickled >= 600  # the slow senders are all sending
        exporter = GrpcSpanExporter(endpoint=f"http://127.0.0.1:{grpc_receiver.port}", insecure=True, timeout=5)
        provider, memory = traced(None, batch=False)
        run_agents(provider, 2)
        provider.shutdown()
        assert exporter.export(memory.get_finished_spans()) == SpanExportResult.SUCCESS
        exporter.shutdown()
        assert not any(call.done() for _, call in slow_calls)  # they are still sending
    finally:
        proxy.close()
        for channel, call in slow_calls:
            call.cancel()
            channel.close()
        stop_grpc(grpc_receiver)


# --- 5: the deadline never cuts a request being decoded; a retry after a lost answer is stored once ---

def test_the_deadline_never_cuts_a_request_being_decoded(
    receiver: ReceiverServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(receiver_module, "REQUEST_SECONDS", 1)
    request = spans_request(20_000, seed=5, traces=50)
    started = time.monotonic()
    status, _ = post(receiver.server_address[1], request.SerializeToString())
    assert time.monotonic() - started > 1  # the fault: decoding outlasted the request's deadline
    assert status == 200
    assert len(spooled_files(receiver.spool.folder)) == 1


def test_a_retry_after_a_lost_answer_is_stored_once(receiver: ReceiverServer, lake: Path) -> None:
    request = spans_request(300, seed=6, traces=3)
    body = request.SerializeToString()
    with socket.create_connection(("127.0.0.1", receiver.server_address[1])) as sock:  # send, never read the answer
        sock.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        sock.shutdown(socket.SHUT_WR)
    deadline = time.monotonic() + 30
    while not spooled_files(receiver.spool.folder) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert post(receiver.server_address[1], body)[0] == 200  # the exporter's retry
    assert len(spooled_files(receiver.spool.folder)) == 2  # the fault: the same request stored twice
    output = ingest(lake)
    assert stored_spans(lake) == dict.fromkeys(span_ids(request), 2)  # once each: a tool call and its result
    assert "2 files: 1 ingested, 1 already in the lake" in output


# --- 7: a full disk is a retryable 503 and a one-line log, and leaves no partial file ----------------

class FullDisk:
    """`open` for the spool whose files take `room` bytes, then fail with ENOSPC."""

    def __init__(self, room: int):
        self.room, self.partial = room, []

    def __call__(self, path: Any, mode: str) -> Any:
        handle = open(path, mode)  # noqa: SIM115 - the spool closes it
        self.partial.append(Path(path))
        disk = self

        class Writer:
            def write(self, data: bytes) -> int:
                if disk.room < len(data):
                    handle.write(data[:disk.room])
                    disk.room = 0
                    raise OSError(errno.ENOSPC, "No space left on device")
                disk.room -= len(data)
                return handle.write(data)

            def __getattr__(self, name: str) -> Any:
                return getattr(handle, name)

            def __enter__(self) -> Any:
                return self

            def __exit__(self, *exc: object) -> None:
                handle.close()

        return Writer()


def test_a_full_disk_answers_503_and_leaves_no_partial_file(
    receiver: ReceiverServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    disk = FullDisk(room=200_000)
    monkeypatch.setattr(spool_module, "open", disk, raising=False)
    body = spans_request(5000, seed=7, traces=20).SerializeToString()  # several pieces: some are written
    with caplog.at_level(logging.ERROR, logger="agentwatch.ingest.receiver.http_server"):
        conn = http.client.HTTPConnection("127.0.0.1", receiver.server_address[1], timeout=60)
        conn.request("POST", "/v1/traces", body=body, headers={"Content-Type": PROTOBUF})
        response = conn.getresponse()
        assert (response.status, response.getheader("Retry-After")) == (503, "1")
        conn.close()
    assert disk.room == 0 and disk.partial  # the fault fired, mid-file
    assert list(receiver.spool.folder.iterdir()) == []  # and its partial file is gone
    (record,) = [r for r in caplog.records if r.name == "agentwatch.ingest.receiver.http_server"]
    assert record.getMessage() == "cannot spool an OTLP request: No space left on device"
    assert record.exc_info is None
    monkeypatch.undo()  # space is back: the exporter's retry is stored
    assert post(receiver.server_address[1], body)[0] == 200
    assert len(spooled_files(receiver.spool.folder)) == 1


# --- 4: decoded memory bounded: a JSON body parses whole, so one of too many objects is refused ------

def test_a_json_body_of_too_many_objects_is_refused_before_it_is_parsed(
    receiver: ReceiverServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(receiver_module, "MAX_JSON_OBJECTS", 5000)
    small, large = (orjson.dumps(to_otlp_json(spans_request(n, seed=9))) for n in (200, 2000))
    assert small.count(b"{") <= 5000 < large.count(b"{")
    assert post(receiver.server_address[1], small, JSON)[0] == 200
    status, reply = post(receiver.server_address[1], large, JSON)
    assert status == 413 and b"send smaller batches, or protobuf" in reply
    assert len(spooled_files(receiver.spool.folder)) == 1
