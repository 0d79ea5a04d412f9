"""`agentwatch receive`: OTLP/HTTP (127.0.0.1:4318) and OTLP/gRPC (127.0.0.1:4317, `grpc_server`)
endpoints for traces, logs and metrics that spool to disk.

HTTP follows the OTLP/HTTP spec: POST /v1/traces, /v1/logs or /v1/metrics with a body in
`application/x-protobuf` or `application/json`, framed by Content-Length or `Transfer-Encoding:
chunked`, optionally `Content-Encoding: gzip`; 200 with an Export*ServiceResponse in the request's
encoding; 400 for a body that does not decode, 404 for other paths, 405 for other methods, 408 when
the request's bytes take longer than `REQUEST_SECONDS`, 411 with neither framing, 413 over
`MAX_BODY_BYTES` (before or after inflating) or a JSON body of more than `MAX_JSON_OBJECTS` objects,
415 for other content types or encodings, 501 for other transfer codings, 503 with `Retry-After` when
the bytes kept for requests being read and decoded would pass `MAX_BYTES_IN_FLIGHT`, when
`MAX_CONNECTIONS` are open, or when the spool cannot be written (a full disk): exporters retry 503.
Error bodies are a google.rpc.Status in the request's encoding (plain text when that is unknown).

A request is acknowledged only once it is durably spooled (`export`). Bounds, so no client can
hold the receiver: a connection waits `IDLE_SECONDS` at most for a request's first byte, and from it
the request line, headers and body have `REQUEST_SECONDS` (`deadlines`); bytes are reserved
as they arrive (`body`), never as declared; at most `DECODERS` requests are decoded at once,
each in bounded pieces (`pieces`). A request wholly received is decoded and answered, never cut.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
from google.protobuf import json_format

from agentwatch.errors import RecordError
from agentwatch.ingest.receiver.body import BodyReader, HttpError, InFlight, body_length
from agentwatch.ingest.receiver.deadlines import Deadlines
from agentwatch.ingest.receiver.export import SIGNALS, Signal, accept_export, export_response
from agentwatch.ingest.receiver.pieces import to_otlp_json
from agentwatch.ingest.receiver.spool import Spool
from agentwatch.ingest.receiver.wire import encode_varint, length_delimited

log = logging.getLogger(__name__)

PROTOBUF, JSON = "application/x-protobuf", "application/json"
MAX_BODY_BYTES = 64 << 20
MAX_BYTES_IN_FLIGHT = 64 << 20  # bodies (and their inflated bytes) being read or decoded at once
REQUEST_SECONDS = 20  # a request's bytes, from its first byte to its last body byte
IDLE_SECONDS = 30  # a connection waiting for its next request's first byte
LINGER_SECONDS = 2  # reading away an unread body after an error, so the client sees the answer
READ_AWAY = 1 << 16
MAX_CONNECTIONS = 256
DECODERS = 2  # requests decoded at once (each holds at most a piece of decoded values)
RETRY_AFTER_SECONDS = 1
# JSON is parsed whole (protobuf piece by piece): each object costs ~300 bytes once parsed, so a body of
# tiny objects would cost ~20x its size. Exporters' batches (512 spans) hold a few thousand.
MAX_JSON_OBJECTS = 1_000_000
POLL_SECONDS = 0.1  # how soon `stop_receiver` is noticed
INVALID_ARGUMENT, UNAVAILABLE = 3, 14  # google.rpc.Code
BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 1\r\n"
        b"Content-Length: 29\r\nConnection: close\r\n\r\ntoo many connections; retry\r\n")

__all__ = ["HttpError", "InFlight", "ReceiverServer", "serve_receiver", "stop_receiver"]


class ReceiverServer(ThreadingHTTPServer):
    """The HTTP server, with the spool its handlers write to and the thread serving it (if any)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], spool: Spool, in_flight: InFlight | None = None,
                 decoders: threading.Semaphore | None = None):
        self.spool = spool
        self.in_flight = in_flight or InFlight(MAX_BYTES_IN_FLIGHT)
        self.decoders = decoders or threading.Semaphore(DECODERS)
        self.deadlines = Deadlines()  # before binding: a failed bind closes the server, and stops it
        self.connections = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.thread: threading.Thread | None = None
        super().__init__(address, OtlpHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if self.connections.acquire(blocking=False):
            super().process_request(request, client_address)
            return
        with contextlib.suppress(OSError):  # over the limit: say so, and free the socket at once
            request.settimeout(0.5)
            request.sendall(BUSY)
        self.shutdown_request(request)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.connections.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        log.error("a request from %s failed: %s: %s", client_address[0], type(exc).__name__, exc)
        log.debug("the failure in full", exc_info=True)

    def server_close(self) -> None:
        super().server_close()
        self.deadlines.stop()


def serve_receiver(
    spool_dir: str | Path, host: str = "127.0.0.1", port: int = 4318, *, block: bool = False,
    in_flight: InFlight | None = None, decoders: threading.Semaphore | None = None,
) -> ReceiverServer:
    """Start the HTTP endpoint (port 0 picks a free one); in a daemon thread (stop it with
    `stop_receiver`), or in the calling thread until shut down if `block`."""
    server = ReceiverServer((host, port), Spool(spool_dir), in_flight, decoders)
    if server.spool.leftovers:
        log.warning("removed %d partial spool files a stopped receiver left", len(server.spool.leftovers))
    if block:
        server.serve_forever(POLL_SECONDS)
        return server
    server.thread = threading.Thread(
        target=server.serve_forever, args=(POLL_SECONDS,), name="agentwatch-receiver", daemon=True
    )
    server.thread.start()
    return server


def stop_receiver(server: ReceiverServer) -> None:
    """Stop serving, wait for the serving thread and release the port."""
    server.shutdown()
    server.server_close()
    if server.thread is not None:
        server.thread.join()


request_to_otlp_json = to_otlp_json  # the name callers of the traces-only receiver know


class OtlpHandler(BaseHTTPRequestHandler):
    """One OTLP/HTTP request; the server carries the spool, the budgets and the deadlines."""

    protocol_version = "HTTP/1.1"  # exporters keep connections alive; every reply sets Content-Length
    server_version = "agentwatch-receiver"
    timeout = IDLE_SECONDS
    server: ReceiverServer

    def handle_one_request(self) -> None:
        try:
            first = self.rfile.peek(1)
        except OSError:  # idle too long, or reset
            first = b""
        if not first:
            self.close_connection = True
            return
        self._deadline = self.server.deadlines.add(REQUEST_SECONDS, self.connection)
        self._body_read = False
        try:
            super().handle_one_request()
        finally:
            self.server.deadlines.cancel(self._deadline)

    def do_POST(self) -> None:
        encoding = _media_type(self.headers.get("Content-Type"))
        reader: BodyReader | None = None
        try:
            signal = self._signal()
            if encoding not in (PROTOBUF, JSON):
                raise HttpError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"content type must be {PROTOBUF} or {JSON}")
            gzip = self._gzip()
            length = body_length(self.headers, MAX_BODY_BYTES)
            reader = BodyReader(self.rfile, self.server.in_flight, MAX_BODY_BYTES, gzip, self._deadline.expired)
            body = reader.read(length)
            self._body_read = True
            self.server.deadlines.cancel(self._deadline)  # all of it is in: decode and answer, never cut
            with self.server.decoders:
                verdict = accept_export(signal, parse_body(signal, body, encoding), self.server.spool)
        except HttpError as exc:
            self._fail(exc, encoding)
        except RecordError as exc:
            self._fail(HttpError(HTTPStatus.BAD_REQUEST, exc.message), encoding)
        except OSError as exc:  # not durable, so not acknowledged: 503 tells the exporter to retry
            log.error("cannot spool an OTLP request: %s", exc.strerror or exc)
            self._fail(HttpError(HTTPStatus.SERVICE_UNAVAILABLE, "cannot spool the request"), encoding)
        else:
            with contextlib.suppress(OSError):  # spooled, but the client is gone: its retry deduplicates in ingest
                self._reply(HTTPStatus.OK, encoding, encode_message(export_response(signal, verdict), encoding))
        finally:
            if reader is not None:
                self.server.in_flight.release(reader.held)

    def _signal(self) -> Signal:
        signal = SIGNALS.get(urlsplit(self.path).path)
        if signal is None:
            raise HttpError(HTTPStatus.NOT_FOUND, f"no such endpoint; OTLP goes to {', '.join(SIGNALS)}")
        return signal

    def _gzip(self) -> bool:
        coding = (self.headers.get("Content-Encoding") or "identity").strip().lower()
        if coding not in ("identity", "gzip"):
            raise HttpError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"unsupported Content-Encoding {coding!r}")
        return coding == "gzip"

    def do_GET(self) -> None:
        encoding = _media_type(self.headers.get("Content-Type"))
        if urlsplit(self.path).path not in SIGNALS:
            self._fail(HttpError(HTTPStatus.NOT_FOUND, "no such endpoint"), encoding)
        else:
            self._fail(HttpError(HTTPStatus.METHOD_NOT_ALLOWED, "only POST"), encoding, allow="POST")

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _fail(self, exc: HttpError, encoding: str | None, allow: str | None = None) -> None:
        self.close_connection = True  # the body may be unread: never reuse this connection
        body_encoding = encoding if encoding in (PROTOBUF, JSON) else "text/plain"
        code = UNAVAILABLE if exc.status == HTTPStatus.SERVICE_UNAVAILABLE else INVALID_ARGUMENT
        headers = {"Connection": "close", **({"Allow": allow} if allow else {})}
        if exc.status == HTTPStatus.SERVICE_UNAVAILABLE:
            headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        with contextlib.suppress(OSError):  # the connection was shut (deadline) or dropped by the client
            self._reply(exc.status, body_encoding, encode_status(exc.message, body_encoding, code), headers)
            if not self._body_read:
                self._linger()

    def _linger(self) -> None:
        """Half-close, then read away what the client is still sending for a moment: closing a socket
        with unread bytes resets it, and the client would lose the answer."""
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_WR)
        until = time.monotonic() + LINGER_SECONDS
        while (left := until - time.monotonic()) > 0:
            self.connection.settimeout(left)
            if not self.connection.recv(READ_AWAY):
                return

    def _reply(self, status: HTTPStatus, content_type: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        log.debug("%s " + format, self.address_string(), *args)



def parse_body(signal: Signal, body: bytes, encoding: str) -> Any:
    """The request: protobuf bytes (parsed piece by piece), or parsed OTLP/JSON; HttpError(400) when
    JSON does not parse, 413 when it holds too many objects to parse in bounded memory."""
    if encoding == PROTOBUF:
        return body
    if (objects := body.count(b"{")) > MAX_JSON_OBJECTS:  # an upper bound: braces in strings count too
        raise HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                        f"{objects} JSON objects, over {MAX_JSON_OBJECTS}: send smaller batches, or protobuf")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise HttpError(HTTPStatus.BAD_REQUEST, f"malformed JSON: {exc}") from exc


def encode_message(message: Any, encoding: str) -> bytes:
    """A response message in the request's encoding."""
    if encoding == PROTOBUF:
        return message.SerializeToString()
    return orjson.dumps(json_format.MessageToDict(message))


def encode_status(message: str, encoding: str, code: int = INVALID_ARGUMENT) -> bytes:
    """A google.rpc.Status in the request's encoding, or plain text."""
    if encoding == JSON:
        return orjson.dumps({"code": code, "message": message})
    if encoding == PROTOBUF:  # Status{int32 code = 1; string message = 2}: two fields, encoded by hand
        return b"\x08" + encode_varint(code) + length_delimited(2, message.encode())
    return message.encode()


def _media_type(content_type: str | None) -> str | None:
    return content_type.split(";", 1)[0].strip().lower() if content_type else None
