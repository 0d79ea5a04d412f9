"""`agentwatch receive`: an OTLP/HTTP trace endpoint (127.0.0.1:4318 by default) that spools to disk.

It follows the OTLP/HTTP spec: POST /v1/traces with a body in `application/x-protobuf` or
`application/json`, optionally `Content-Encoding: gzip`; 200 with an ExportTraceServiceResponse in the
request's encoding; 400 for a body that does not decode, 404 for other paths, 405 for other methods,
411 without Content-Length, 413 over `MAX_BODY_BYTES`, 415 for other content types or encodings.
Error bodies are a google.rpc.Status in the request's encoding (plain text when that is unknown).

A request is acknowledged only once it is durably spooled (`ingest.spool`), as OTLP/JSON with hex ids,
so the `otlp_json` decoder maps it at ingest. Spans that decoder would reject are reported back in
`partial_success` and written on a second line of the same spool file, where ingest quarantines them
with their reason: one bad span neither costs the good ones nor disappears.
"""

from __future__ import annotations

import base64
import logging
import threading
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from agentwatch.errors import RecordError
from agentwatch.ingest.formats.otlp_common import filter_spans
from agentwatch.ingest.formats.otlp_json import decode_otlp_spans
from agentwatch.ingest.records import Location, normalize_event
from agentwatch.ingest.spool import Spool

log = logging.getLogger(__name__)

TRACES_PATH = "/v1/traces"
PROTOBUF, JSON = "application/x-protobuf", "application/json"
MAX_BODY_BYTES = 64 << 20
MAX_CONCURRENT = 4  # requests decoded at once; more get 503, which OTLP exporters retry with backoff
SOCKET_TIMEOUT_SECONDS = 30
MAX_REASONS = 5  # in a partial_success error_message
POLL_SECONDS = 0.1  # how soon `stop_receiver` is noticed
INVALID_ARGUMENT, UNAVAILABLE = 3, 14  # google.rpc.Code
RECEIVER_LOCATION = Location("otlp_json", "<receiver>", 0, 1)


class HttpError(Exception):
    """A request the receiver refuses, with the status to answer."""

    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class ReceiverServer(ThreadingHTTPServer):
    """The HTTP server, with the spool its handlers write to and the thread serving it (if any)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], spool: Spool):
        super().__init__(address, OtlpHandler)
        self.spool = spool
        self.slots = threading.BoundedSemaphore(MAX_CONCURRENT)
        self.thread: threading.Thread | None = None


def serve_receiver(
    spool_dir: str | Path, host: str = "127.0.0.1", port: int = 4318, *, block: bool = False
) -> ReceiverServer:
    """Start the endpoint (port 0 picks a free one); in a daemon thread (stop it with
    `stop_receiver`), or in the calling thread until shut down if `block`."""
    server = ReceiverServer((host, port), Spool(spool_dir))
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


def request_to_otlp_json(message: ExportTraceServiceRequest) -> dict[str, Any]:
    """A protobuf request in the OTLP/JSON shape: lowerCamelCase, integer enums, hex ids (not base64)."""
    data = json_format.MessageToDict(message, use_integers_for_enums=True)
    for resource_spans in data.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                _hexify(span, ("traceId", "spanId", "parentSpanId"))
                for link in span.get("links", []):
                    _hexify(link, ("traceId", "spanId"))
    return data


def _hexify(obj: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        if key in obj:
            obj[key] = base64.b64decode(obj[key]).hex()


@dataclass(frozen=True)
class Split:
    """A request divided into the spans ingest will map and the ones it would quarantine."""

    accepted: dict[str, Any] | None
    rejected: dict[str, Any] | None
    rejected_spans: int
    reasons: list[str]


def split_request(record: Any, now: datetime) -> Split:
    """Judge each span as ingest will; raises RecordError when the envelope itself is malformed."""
    reasons: dict[str, str] = {}  # original span path -> reason
    accepted, origin = record, None
    while True:  # dropping a span can orphan another's identity: judge what is left again
        errors = _span_errors(accepted, now)
        reasons.update({(origin or {}).get(path, path): reason for path, reason in errors.items()})
        accepted, origin = filter_spans(record, lambda path: path not in reasons)
        if not errors or accepted is None:
            break
    rejected = filter_spans(record, lambda path: path in reasons)[0] if reasons else None
    return Split(accepted, rejected, len(reasons), [f"{p}: {r}" for p, r in reasons.items()])


def _span_errors(record: Any, now: datetime) -> dict[str, str]:
    errors = {}
    for path, result in decode_otlp_spans(record):
        try:
            if isinstance(result, Exception):
                raise result
            for index, event in enumerate(result):
                normalize_event(event, RECEIVER_LOCATION, now=now, index=index)
        except RecordError as exc:
            errors[path] = exc.message.removeprefix(f"{path}: ").removeprefix(f"{path}.")
    return errors


class OtlpHandler(BaseHTTPRequestHandler):
    """One OTLP/HTTP request; the server carries the `spool`."""

    protocol_version = "HTTP/1.1"  # exporters keep connections alive; every reply sets Content-Length
    server_version = "agentwatch-receiver"
    timeout = SOCKET_TIMEOUT_SECONDS  # a client that stops sending mid-body frees its thread

    def do_POST(self) -> None:
        slots = self.server.slots  # type: ignore[attr-defined]  # a ReceiverServer
        if not slots.acquire(blocking=False):  # memory stays bounded: at most MAX_CONCURRENT bodies held
            encoding = _media_type(self.headers.get("Content-Type"))
            self.close_connection = True
            self._fail(HttpError(HTTPStatus.SERVICE_UNAVAILABLE, "busy; retry later"), encoding)
            return
        try:
            self._handle_post()
        finally:
            slots.release()

    def _handle_post(self) -> None:
        encoding = _media_type(self.headers.get("Content-Type"))
        try:
            if urlsplit(self.path).path != TRACES_PATH:
                raise HttpError(HTTPStatus.NOT_FOUND, f"no such endpoint; traces go to {TRACES_PATH}")
            if encoding not in (PROTOBUF, JSON):
                raise HttpError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"content type must be {PROTOBUF} or {JSON}")
            record = parse_body(self._read_body(), encoding)
            if isinstance(record, dict):  # protobuf's JSON omits an empty list: the request is empty
                record.setdefault("resourceSpans", [])
            split = split_request(record, datetime.now(UTC))
        except HttpError as exc:
            self._fail(exc, encoding)
            return
        except RecordError as exc:
            self._fail(HttpError(HTTPStatus.BAD_REQUEST, exc.message), encoding)
            return
        lines = [orjson.dumps(part) for part in (split.accepted, split.rejected) if part is not None]
        try:
            if lines:
                self.server.spool.write(lines)  # type: ignore[attr-defined]  # a ReceiverServer
        except OSError as exc:  # not durable, so not acknowledged: 503 tells the exporter to retry
            log.error("cannot spool an OTLP request: %s", exc)
            self._fail(HttpError(HTTPStatus.SERVICE_UNAVAILABLE, "cannot spool the request"), encoding)
            return
        self._reply(HTTPStatus.OK, encoding, encode_response(split, encoding))

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise HttpError(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required")
        if int(length) > MAX_BODY_BYTES:
            raise HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body over {MAX_BODY_BYTES} bytes")
        body = self.rfile.read(int(length))
        coding = (self.headers.get("Content-Encoding") or "identity").strip().lower()
        if coding == "gzip":
            return gunzip(body)
        if coding != "identity":
            raise HttpError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"unsupported Content-Encoding {coding!r}")
        return body

    def do_GET(self) -> None:
        self._not_allowed()

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _not_allowed(self) -> None:
        encoding = _media_type(self.headers.get("Content-Type"))
        if urlsplit(self.path).path != TRACES_PATH:
            self._fail(HttpError(HTTPStatus.NOT_FOUND, "no such endpoint"), encoding)
        else:
            self._fail(HttpError(HTTPStatus.METHOD_NOT_ALLOWED, "only POST"), encoding, allow="POST")

    def _fail(self, exc: HttpError, encoding: str | None, allow: str | None = None) -> None:
        self.close_connection = True  # the body may be unread: never reuse this connection
        body_encoding = encoding if encoding in (PROTOBUF, JSON) else "text/plain"
        code = UNAVAILABLE if exc.status == HTTPStatus.SERVICE_UNAVAILABLE else INVALID_ARGUMENT
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


def parse_body(body: bytes, encoding: str) -> Any:
    """The request as OTLP/JSON; HttpError(400) when the body does not decode."""
    if encoding == PROTOBUF:
        message = ExportTraceServiceRequest()
        try:
            message.ParseFromString(body)
        except DecodeError as exc:
            raise HttpError(HTTPStatus.BAD_REQUEST, f"not an ExportTraceServiceRequest: {exc}") from exc
        return request_to_otlp_json(message)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise HttpError(HTTPStatus.BAD_REQUEST, f"malformed JSON: {exc}") from exc


def gunzip(body: bytes) -> bytes:
    """Decompress a gzip body, refusing more than MAX_BODY_BYTES of output."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, MAX_BODY_BYTES + 1)
    except zlib.error as exc:
        raise HttpError(HTTPStatus.BAD_REQUEST, f"bad gzip body: {exc}") from exc
    if len(data) > MAX_BODY_BYTES:
        raise HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body inflates over {MAX_BODY_BYTES} bytes")
    if not inflater.eof:
        raise HttpError(HTTPStatus.BAD_REQUEST, "bad gzip body: truncated")
    return data


def encode_response(split: Split, encoding: str) -> bytes:
    """An ExportTraceServiceResponse; partial_success only when spans were rejected."""
    response = ExportTraceServiceResponse()
    if split.rejected_spans:
        shown = "; ".join(split.reasons[:MAX_REASONS])
        more = len(split.reasons) - MAX_REASONS
        message = shown + (f"; and {more} more" if more > 0 else "")
        response.partial_success.CopyFrom(
            ExportTracePartialSuccess(rejected_spans=split.rejected_spans, error_message=message)
        )
    if encoding == PROTOBUF:
        return response.SerializeToString()
    return orjson.dumps(json_format.MessageToDict(response))


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
