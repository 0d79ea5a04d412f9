"""`agentwatch receive`: OTLP/HTTP (127.0.0.1:4318) and OTLP/gRPC (127.0.0.1:4317, `receiver_grpc`)
endpoints for traces and logs that spool to disk.

HTTP follows the OTLP/HTTP spec: POST /v1/traces or /v1/logs with a body in `application/x-protobuf`
or `application/json`, optionally `Content-Encoding: gzip`; 200 with an Export*ServiceResponse in the
request's encoding; 400 for a body that does not decode, 404 for other paths, 405 for other methods,
408 when a request takes longer than `REQUEST_SECONDS`, 411 without Content-Length, 413 over
`MAX_BODY_BYTES`, 415 for other content types or encodings, 503 when the bytes of the requests being
read and decoded would pass `MAX_BYTES_IN_FLIGHT` (exporters retry 503). Error bodies are a
google.rpc.Status in the request's encoding (plain text when that is unknown).

A request is acknowledged only once it is durably spooled (`otlp_export`): a gzip body is decoded
whole, every member of it, or refused; trailing bytes after a member are refused too.

Slow senders: the whole request (headers and body) must arrive within `REQUEST_SECONDS`, or its
connection is shut; a sender holds no decode capacity while it trickles, only its declared bytes.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
import zlib
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError

from agentwatch.errors import RecordError
from agentwatch.ingest.receiver.export import SIGNALS, Signal, accept_export, export_response, to_otlp_json
from agentwatch.ingest.receiver.spool import Spool

log = logging.getLogger(__name__)

PROTOBUF, JSON = "application/x-protobuf", "application/json"
MAX_BODY_BYTES = 64 << 20
MAX_BYTES_IN_FLIGHT = 64 << 20  # bodies (and their inflated bytes) being read or decoded at once
REQUEST_SECONDS = 20  # the whole request, from its request line to its last body byte
IDLE_SECONDS = 30  # a kept-alive connection waiting for its next request
READ_CHUNK = 1 << 16
POLL_SECONDS = 0.1  # how soon `stop_receiver` is noticed
INVALID_ARGUMENT, UNAVAILABLE = 3, 14  # google.rpc.Code


class HttpError(Exception):
    """A request the receiver refuses, with the status to answer."""

    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class InFlight:
    """Bytes of requests being read or decoded; a request alone is always admitted."""

    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def reserve(self, n: int, held: int = 0) -> bool:
        """Take `n` more bytes for a request already holding `held`; False when over the limit."""
        with self._lock:
            if self.used + n > self.limit and self.used != held:
                return False
            self.used += n
            return True

    def release(self, n: int) -> None:
        """Give back bytes a request held."""
        with self._lock:
            self.used -= n


class ReceiverServer(ThreadingHTTPServer):
    """The HTTP server, with the spool its handlers write to and the thread serving it (if any)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], spool: Spool, in_flight: InFlight | None = None):
        super().__init__(address, OtlpHandler)
        self.spool = spool
        self.in_flight = in_flight or InFlight(MAX_BYTES_IN_FLIGHT)
        self.thread: threading.Thread | None = None


def serve_receiver(
    spool_dir: str | Path, host: str = "127.0.0.1", port: int = 4318, *, block: bool = False,
    in_flight: InFlight | None = None,
) -> ReceiverServer:
    """Start the HTTP endpoint (port 0 picks a free one); in a daemon thread (stop it with
    `stop_receiver`), or in the calling thread until shut down if `block`."""
    server = ReceiverServer((host, port), Spool(spool_dir), in_flight)
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
    """One OTLP/HTTP request; the server carries the `spool` and the `in_flight` budget."""

    protocol_version = "HTTP/1.1"  # exporters keep connections alive; every reply sets Content-Length
    server_version = "agentwatch-receiver"
    timeout = IDLE_SECONDS

    def handle_one_request(self) -> None:
        self._timer: threading.Timer | None = None
        try:
            super().handle_one_request()
        finally:
            if self._timer is not None:
                self._timer.cancel()

    def parse_request(self) -> bool:
        # The request line is in; from here the whole request has REQUEST_SECONDS.
        self._deadline = time.monotonic() + REQUEST_SECONDS
        self._timer = threading.Timer(REQUEST_SECONDS, self._expire)
        self._timer.daemon = True
        self._timer.start()
        return super().parse_request()

    def _expire(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def do_POST(self) -> None:
        encoding = _media_type(self.headers.get("Content-Type"))
        held = 0
        try:
            signal = self._signal()
            if encoding not in (PROTOBUF, JSON):
                raise HttpError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"content type must be {PROTOBUF} or {JSON}")
            length = self._length()
            held = self._admit(length)
            body = self._read(length)
            body, held = self._inflate(body, held)
            split = accept_export(signal, parse_body(signal, body, encoding), self.server.spool)  # type: ignore[attr-defined]
        except HttpError as exc:
            self._fail(exc, encoding)
        except RecordError as exc:
            self._fail(HttpError(HTTPStatus.BAD_REQUEST, exc.message), encoding)
        except OSError as exc:  # not durable, so not acknowledged: 503 tells the exporter to retry
            log.error("cannot spool an OTLP request: %s", exc)
            self._fail(HttpError(HTTPStatus.SERVICE_UNAVAILABLE, "cannot spool the request"), encoding)
        else:
            self._reply(HTTPStatus.OK, encoding, encode_message(export_response(signal, split), encoding))
        finally:
            self.server.in_flight.release(held)  # type: ignore[attr-defined]

    def _signal(self) -> Signal:
        signal = SIGNALS.get(urlsplit(self.path).path)
        if signal is None:
            raise HttpError(HTTPStatus.NOT_FOUND, f"no such endpoint; OTLP goes to {', '.join(SIGNALS)}")
        return signal

    def _length(self) -> int:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise HttpError(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required")
        if int(length) > MAX_BODY_BYTES:
            raise HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body over {MAX_BODY_BYTES} bytes")
        return int(length)

    def _admit(self, length: int) -> int:
        """Reserve the declared body; when over budget, read it away (in chunks, nothing kept) so the
        exporter, still sending, sees the 503 and retries instead of a broken pipe."""
        try:
            return self._reserve(length, 0)
        except HttpError:
            self._discard(length)
            raise

    def _discard(self, length: int) -> None:
        left = length
        with contextlib.suppress(OSError):
            while left > 0 and (chunk := self.rfile.read1(min(READ_CHUNK, left))):
                left -= len(chunk)

    def _reserve(self, n: int, held: int) -> int:
        if not self.server.in_flight.reserve(n, held):  # type: ignore[attr-defined]
            raise HttpError(HTTPStatus.SERVICE_UNAVAILABLE, "busy; retry later")
        return held + n

    def _read(self, length: int) -> bytes:
        chunks, got = [], 0
        while got < length:
            try:
                chunk = self.rfile.read1(min(READ_CHUNK, length - got))
            except OSError:
                chunk = b""
            if not chunk:
                late = time.monotonic() >= self._deadline
                raise HttpError(HTTPStatus.REQUEST_TIMEOUT if late else HTTPStatus.BAD_REQUEST,
                                "request took too long" if late else "body shorter than Content-Length")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _inflate(self, body: bytes, held: int) -> tuple[bytes, int]:
        coding = (self.headers.get("Content-Encoding") or "identity").strip().lower()
        if coding == "identity":
            return body, held
        if coding != "gzip":
            raise HttpError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"unsupported Content-Encoding {coding!r}")
        data = gunzip(body)
        return data, self._reserve(len(data), held)

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
        with contextlib.suppress(OSError):  # the connection was shut (deadline) or dropped by the client
            self._reply(exc.status, body_encoding, encode_status(exc.message, body_encoding, code), allow)

    def _reply(self, status: HTTPStatus, content_type: str, body: bytes, allow: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if allow:
            self.send_header("Allow", allow)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        log.debug("%s " + format, self.address_string(), *args)


def parse_body(signal: Signal, body: bytes, encoding: str) -> Any:
    """The request as OTLP/JSON; HttpError(400) when the body does not decode."""
    if encoding == PROTOBUF:
        message = signal.request()
        try:
            message.ParseFromString(body)
        except DecodeError as exc:
            raise HttpError(HTTPStatus.BAD_REQUEST, f"not an {signal.request.__name__}: {exc}") from exc
        return to_otlp_json(message)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise HttpError(HTTPStatus.BAD_REQUEST, f"malformed JSON: {exc}") from exc


def gunzip(body: bytes) -> bytes:
    """Decompress every member of a gzip body (concatenated gzip files are one stream, RFC 1952),
    refusing more than MAX_BODY_BYTES of output, a truncated member and trailing bytes."""
    out: list[bytes] = []
    size, rest = 0, body
    while True:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = inflater.decompress(rest, MAX_BODY_BYTES + 1 - size)
        except zlib.error as exc:
            raise HttpError(HTTPStatus.BAD_REQUEST, f"bad gzip body: {exc}") from exc
        size += len(data)
        out.append(data)
        if size > MAX_BODY_BYTES or inflater.unconsumed_tail:
            raise HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body inflates over {MAX_BODY_BYTES} bytes")
        if not inflater.eof:
            raise HttpError(HTTPStatus.BAD_REQUEST, "bad gzip body: truncated")
        rest = inflater.unused_data
        if not rest:
            return b"".join(out)
        if not rest.startswith(b"\x1f\x8b"):
            raise HttpError(HTTPStatus.BAD_REQUEST, f"bad gzip body: {len(rest)} trailing bytes after a member")


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
        text = message.encode()
        return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text
    return message.encode()


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        low, number = number & 0x7F, number >> 7
        out.append(low | (0x80 if number else 0))
        if not number:
            return bytes(out)


def _media_type(content_type: str | None) -> str | None:
    return content_type.split(";", 1)[0].strip().lower() if content_type else None

