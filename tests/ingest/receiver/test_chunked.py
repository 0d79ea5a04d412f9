"""Chunked request bodies, as Claude Code's OTLP/HTTP exporter (the OpenTelemetry JS SDK on Node's http
client) sends them since 2.1.191: no Content-Length, `Transfer-Encoding: chunked`, the body piped from
a stream (gzip: zlib's 16 KiB output chunks), the connection kept alive. Sent byte for byte over a real
socket; and the bounds enforced while such a body is read."""

from __future__ import annotations

import gzip
import select
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource

from agentwatch.ingest.receiver import http_server as receiver_module
from agentwatch.ingest.receiver.http_server import ReceiverServer
from agentwatch.ingest.receiver.pieces import to_otlp_json
from agentwatch.ingest.receiver.spool import spooled_files
from tests.ingest.receiver.test_http_server import JSON, PROTOBUF, post, run_agents, traced
from tests.ingest.receiver.test_signals import SESSION, emit_claude_code_events, wait_for
from tests.support.otlp_builders import decode

NODE_CHUNK = 16 << 10  # zlib's default chunkSize: what one gzip stream write carries
USER_AGENT = "OTel-OTLP-Exporter-JavaScript/0.203.0"


def claude_code_logs() -> bytes:
    """An ExportLogsServiceRequest of Claude Code's events, encoded by the SDK's own encoder."""
    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=Resource.create({"service.name": "claude-code"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    emit_claude_code_events(provider)
    provider.shutdown()
    return encode_logs(memory.get_finished_logs()).SerializeToString()


def agent_spans() -> bytes:
    provider, memory = traced(None, batch=False)
    run_agents(provider, 2)
    provider.shutdown()
    return encode_spans(memory.get_finished_spans()).SerializeToString()


def node_request(port: int, path: str, body: bytes, content_type: str, compressed: bool) -> bytes:
    """The bytes Node's http.request writes for the JS exporter's piped body."""
    head = [f"POST {path} HTTP/1.1", f"Content-Type: {content_type}", f"User-Agent: {USER_AGENT}"]
    if compressed:
        head.append("Content-Encoding: gzip")
    head += [f"Host: 127.0.0.1:{port}", "Connection: keep-alive", "Transfer-Encoding: chunked"]
    pieces = [gzip.compress(body)[i:i + NODE_CHUNK] for i in range(0, len(gzip.compress(body)), NODE_CHUNK)] \
        if compressed else [body]
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces if piece)
    return ("\r\n".join(head) + "\r\n\r\n").encode() + chunks + b"0\r\n\r\n"


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length, read off a kept-alive socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        if not more:
            raise ConnectionError(f"closed after {data!r}")
        data += more
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    while len(rest) < int(headers["content-length"]):
        rest += sock.recv(65536)
    return int(lines[0].split()[1]), headers, rest


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("content_type", [PROTOBUF, JSON], ids=["protobuf", "json"])
def test_js_exporter_framing_is_accepted_and_the_connection_reused(
    receiver: ReceiverServer, compressed: bool, content_type: str
) -> None:
    logs, spans = claude_code_logs(), agent_spans()
    if content_type == JSON:
        logs = orjson.dumps(to_otlp_json(_logs_message(logs)))
        spans = orjson.dumps(to_otlp_json(_spans_message(spans)))
    port = receiver.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(node_request(port, "/v1/logs", logs, content_type, compressed))
        status, headers, reply = read_response(sock)
        assert (status, headers["content-type"]) == (200, content_type)
        if content_type == PROTOBUF:
            assert not ExportLogsServiceResponse.FromString(reply).HasField("partial_success")
        sock.sendall(node_request(port, "/v1/traces", spans, content_type, compressed))  # same connection
        assert read_response(sock)[0] == 200
    rows = log_rows(receiver.spool.folder)
    assert sorted(r["event_type"] for r in rows) == sorted(["user_prompt", "llm_response", "approval", "tool_call",
                                                            "tool_result"])
    assert {r["session_id"] for r in rows} == {SESSION}
    assert len(spooled_files(receiver.spool.folder)) == 2


def log_rows(folder: Path) -> list[dict]:
    """The events of the spooled logs requests (the traces ones are set aside)."""
    return [row for path in spooled_files(folder) if b"resourceLogs" in path.read_bytes()
            for line in path.read_bytes().splitlines() for row in decode(line, fmt="otlp_logs")]


def _logs_message(body: bytes):
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    return ExportLogsServiceRequest.FromString(body)


def _spans_message(body: bytes):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    return ExportTraceServiceRequest.FromString(body)


def test_chunks_split_anywhere_and_gzip_members_across_chunks_decode(receiver: ReceiverServer) -> None:
    body = claude_code_logs()
    half = len(body) // 2
    stream = gzip.compress(body[:half]) + gzip.compress(body[half:])  # two members
    chunks = [stream[i:i + 7] for i in range(0, len(stream), 7)]  # a member's magic split across chunks
    wire = b"".join(b"%X;ext=1\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\nX-Trailer: 1\r\n\r\n"
    head = (b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
            b"Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n")
    with socket.create_connection(("127.0.0.1", receiver.server_address[1]), timeout=10) as sock:
        sock.sendall(head + wire)
        assert read_response(sock)[0] == 200
    assert len(log_rows(receiver.spool.folder)) == 5


FRAMING_ERRORS = [
    ("both framings", b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", b"0\r\n\r\n", 400),
    ("other coding", b"Transfer-Encoding: gzip, chunked\r\n", b"0\r\n\r\n", 501),
    ("bad chunk size", b"Transfer-Encoding: chunked\r\n", b"zz\r\n{}\r\n0\r\n\r\n", 400),
    ("no CRLF after chunk", b"Transfer-Encoding: chunked\r\n", b"2\r\n{}XX0\r\n\r\n", 400),
    ("cut before the last chunk", b"Transfer-Encoding: chunked\r\n", b"2\r\n{}\r\n", 400),
]


@pytest.mark.parametrize(("headers", "body", "expected"), [e[1:] for e in FRAMING_ERRORS],
                         ids=[e[0] for e in FRAMING_ERRORS])
def test_bad_chunked_framing_is_refused(receiver: ReceiverServer, headers: bytes, body: bytes, expected: int) -> None:
    with socket.create_connection(("127.0.0.1", receiver.server_address[1]), timeout=10) as sock:
        sock.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + headers + b"\r\n"
                     + body)
        sock.shutdown(socket.SHUT_WR)
        assert read_response(sock)[0] == expected
    assert spooled_files(receiver.spool.folder) == []


class Sender:
    """Sends a chunked body piece by piece from a thread, stopping as soon as an answer arrives."""

    def __init__(self, port: int, head: bytes, pieces: Iterator[bytes], pause: float = 0.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sent = 0
        self.finished = False
        self.answered = threading.Event()
        self.sock.sendall(head)
        self.thread = threading.Thread(target=self._send, args=(pieces, pause), daemon=True)
        self.thread.start()

    def _send(self, pieces: Iterator[bytes], pause: float) -> None:
        try:
            for piece in pieces:
                if self.answered.is_set():
                    return
                self.sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.sent += len(piece)
                time.sleep(pause)
            self.sock.sendall(b"0\r\n\r\n")
            self.finished = True
        except OSError:
            return

    def response(self) -> int:
        status = read_response(self.sock)[0]
        self.answered.set()
        self.thread.join(10)
        self.sock.close()
        return status


def chunked_head(path: str = "/v1/traces", extra: bytes = b"") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n".encode() + extra
            + b"Transfer-Encoding: chunked\r\n\r\n")


def test_an_oversize_chunked_body_is_refused_before_it_is_all_read(
    receiver: ReceiverServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(receiver_module, "MAX_BODY_BYTES", 1 << 20)
    total = 64 << 20
    sender = Sender(receiver.server_address[1], chunked_head(), (b"\0" * 65536 for _ in range(total // 65536)))
    assert sender.response() == 413
    assert not sender.finished and sender.sent < total // 2  # answered while the client was still sending
    wait_for(lambda: receiver.in_flight.used == 0)  # released once the handler is done lingering
    assert spooled_files(receiver.spool.folder) == []


def gzip_bomb(inflated: int) -> Iterator[bytes]:
    """A gzip stream of `inflated` zero bytes, in 4 KiB pieces as it is compressed."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    pending = b""
    for _ in range(inflated // (1 << 20)):
        pending += deflater.compress(b"\0" * (1 << 20))
        while len(pending) >= 4096:
            yield pending[:4096]
            pending = pending[4096:]
    pending += deflater.flush()
    yield from (pending[i:i + 4096] for i in range(0, len(pending), 4096))


def test_a_chunked_gzip_bomb_is_refused_as_it_inflates(
    receiver: ReceiverServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(receiver_module, "MAX_BODY_BYTES", 1 << 20)
    pieces = list(gzip_bomb(256 << 20))  # ~250 kB on the wire, 256 MiB inflated
    sender = Sender(receiver.server_address[1], chunked_head(extra=b"Content-Encoding: gzip\r\n"), iter(pieces),
                    pause=0.002)
    assert sender.response() == 413
    assert not sender.finished and sender.sent < sum(map(len, pieces)) // 4
    wait_for(lambda: receiver.in_flight.used == 0)  # released once the handler is done lingering
    assert spooled_files(receiver.spool.folder) == []


def test_a_chunked_body_that_never_ends_is_cut_and_others_are_served(
    receiver: ReceiverServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(receiver_module, "REQUEST_SECONDS", 1)
    endless = (b"x" for _ in iter(int, 1))
    started = time.monotonic()
    sender = Sender(receiver.server_address[1], chunked_head(), endless, pause=0.05)
    for _ in range(3):  # a normal client meanwhile
        assert post(receiver, b"{}", JSON)[0] == 200
    assert sender.response() == 408
    assert 1 <= time.monotonic() - started < 4
    assert spooled_files(receiver.spool.folder) == []


def test_slow_headers_are_cut_by_the_same_deadline(receiver: ReceiverServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(receiver_module, "REQUEST_SECONDS", 1)
    with socket.create_connection(("127.0.0.1", receiver.server_address[1]), timeout=10) as sock:
        sock.sendall(b"POST /v1/traces HTTP/1.1\r\nX-Slow: ")
        started = time.monotonic()
        while time.monotonic() - started < 5 and not select.select([sock], [], [], 0.1)[0]:
            sock.sendall(b"x")  # a header byte every 0.1 s: each read is quick, the whole is not
        cut_after = time.monotonic() - started
        try:
            answer = sock.recv(1024)
        except ConnectionResetError:
            answer = b""
    assert answer == b"" or answer.startswith(b"HTTP/1.1 4")
    assert 0.9 <= cut_after < 3
    assert spooled_files(receiver.spool.folder) == []
