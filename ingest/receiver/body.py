"""Reading one OTLP/HTTP request body with every bound enforced while its bytes arrive.

The body is framed by `Content-Length` or by `Transfer-Encoding: chunked` (what Node's http client,
and so the OpenTelemetry JS exporter and Claude Code, send: no length, one chunk per stream write).
It may be gzip (`Content-Encoding: gzip`), of one member or several (RFC 1952: concatenated gzip
files are one stream), inflated as it arrives. What is refused, and when:

- a declared length, or a running total of chunk sizes, past `limit`: 413 before those bytes are read;
- inflated bytes past `limit` (a gzip bomb): 413 as soon as the inflater passes it;
- bytes kept in memory are reserved from the shared `InFlight` budget as they arrive, never a
  declared length up front, so a slow sender holds only what it has sent; a budget spent by others
  is a 503 (OTLP exporters retry it);
- a body that stops (the client closed, or the request's deadline shut the socket for reading):
  400, or 408 past the deadline; a truncated gzip member or bytes after the last one: 400.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Iterator
from email.message import Message
from http import HTTPStatus
from typing import BinaryIO

READ_CHUNK = 1 << 16
INFLATE_STEP = 1 << 20  # inflated bytes produced (and reserved) per step
MAX_CHUNK_LINE = 1024  # a chunk-size line, extensions included
MAX_TRAILER_BYTES = 16 << 10
GZIP_MAGIC = b"\x1f\x8b"


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


def body_length(headers: Message, limit: int) -> int | None:
    """The declared length, or None for a chunked body; HttpError for framing the receiver refuses."""
    encodings, lengths = headers.get_all("Transfer-Encoding") or [], headers.get_all("Content-Length") or []
    if encodings:
        if lengths:  # RFC 9112 6.3: ambiguous framing (a smuggling vector): refuse it
            raise HttpError(HTTPStatus.BAD_REQUEST, "both Transfer-Encoding and Content-Length")
        codings = [c.strip().lower() for value in encodings for c in value.split(",")]
        if codings != ["chunked"]:
            raise HttpError(HTTPStatus.NOT_IMPLEMENTED, f"unsupported Transfer-Encoding {', '.join(codings)!r}")
        return None
    if not lengths:
        raise HttpError(HTTPStatus.LENGTH_REQUIRED, "Content-Length or Transfer-Encoding: chunked is required")
    if len(set(lengths)) > 1 or not lengths[0].strip().isdigit():
        raise HttpError(HTTPStatus.BAD_REQUEST, "malformed Content-Length")
    length = int(lengths[0])
    if length > limit:
        raise HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body over {limit} bytes")
    return length


class Gunzip:
    """Inflates a gzip stream of one or more members as its bytes arrive, in bounded steps."""

    def __init__(self, limit: int):
        self.limit = limit
        self.size = 0
        self._member: zlib._Decompress | None = None
        self._pending = b""  # bytes after a member: the start of the next one, or trailing garbage
        self._fed = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The inflated pieces of `data` (each at most INFLATE_STEP bytes)."""
        self._fed = self._fed or bool(data)
        while data:
            if self._member is None:
                data = self._pending + data
                if len(data) < len(GZIP_MAGIC):
                    self._pending = data
                    return
                if not data.startswith(GZIP_MAGIC):
                    raise HttpError(HTTPStatus.BAD_REQUEST, f"bad gzip body: {len(data)} trailing bytes")
                self._member, self._pending = zlib.decompressobj(16 + zlib.MAX_WBITS), b""
            data = yield from self._inflate(data)

    def _inflate(self, data: bytes) -> Iterator[bytes]:
        member = self._member
        assert member is not None
        while True:
            try:
                piece = member.decompress(data, INFLATE_STEP)
            except zlib.error as exc:
                raise HttpError(HTTPStatus.BAD_REQUEST, f"bad gzip body: {exc}") from exc
            self.size += len(piece)
            if self.size > self.limit:
                raise HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body inflates over {self.limit} bytes")
            if piece:
                yield piece
            data = member.unconsumed_tail
            if member.eof or (not data and len(piece) < INFLATE_STEP):  # a full step may leave output pending
                break
        if member.eof:
            self._member = None
            return member.unused_data
        return b""

    def finish(self) -> None:
        """Refuse a stream that stopped inside a member, or ends in bytes that start none."""
        if self._member is not None or not self._fed:
            raise HttpError(HTTPStatus.BAD_REQUEST, "bad gzip body: truncated")
        if self._pending:
            raise HttpError(HTTPStatus.BAD_REQUEST, f"bad gzip body: {len(self._pending)} trailing bytes")


class BodyReader:
    """Reads one body from `rfile`: its bytes, inflated, reserved from `budget` as they are kept."""

    def __init__(self, rfile: BinaryIO, budget: InFlight, limit: int, gzip: bool, expired: Callable[[], bool]):
        self.rfile, self.budget, self.limit, self.expired = rfile, budget, limit, expired
        self.inflater = Gunzip(limit) if gzip else None
        self.held = 0  # bytes reserved from the budget; the caller releases them
        self.wire = 0  # body bytes read off the connection (chunk framing excluded)
        self._parts: list[bytes] = []

    def read(self, length: int | None) -> bytes:
        """The whole body (`length` bytes, or chunked when None), inflated."""
        for data in self._fixed(length) if length is not None else self._chunked():
            self._keep(self.inflater.feed(data) if self.inflater else (data,))
        if self.inflater:
            self.inflater.finish()
        body, self._parts = b"".join(self._parts), []
        return body

    def _keep(self, pieces: Iterator[bytes] | tuple[bytes, ...]) -> None:
        for piece in pieces:
            if not self.budget.reserve(len(piece), self.held):
                raise HttpError(HTTPStatus.SERVICE_UNAVAILABLE, "busy; retry later")
            self.held += len(piece)
            self._parts.append(piece)

    def _fixed(self, length: int) -> Iterator[bytes]:
        left = length
        while left > 0:
            chunk = self._read1(min(READ_CHUNK, left))
            left -= len(chunk)
            self.wire += len(chunk)
            yield chunk

    def _chunked(self) -> Iterator[bytes]:
        while size := self._chunk_size():
            if self.wire + size > self.limit:
                raise HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body over {self.limit} bytes")
            yield from self._fixed(size)
            if self._line(2) not in (b"\r\n", b"\n"):
                raise HttpError(HTTPStatus.BAD_REQUEST, "malformed chunked body: no CRLF after a chunk")
        trailers = 0
        while (line := self._line(MAX_CHUNK_LINE)) not in (b"\r\n", b"\n"):
            trailers += len(line)
            if trailers > MAX_TRAILER_BYTES:
                raise HttpError(HTTPStatus.BAD_REQUEST, "malformed chunked body: trailers too long")

    def _chunk_size(self) -> int:
        line = self._line(MAX_CHUNK_LINE)
        digits = line.split(b";", 1)[0].strip()
        if not digits or len(digits) > 16 or any(c not in b"0123456789abcdefABCDEF" for c in digits):
            raise HttpError(HTTPStatus.BAD_REQUEST, "malformed chunked body: bad chunk size")
        return int(digits, 16)

    def _line(self, limit: int) -> bytes:
        try:
            line = self.rfile.readline(limit + 1)
        except OSError:
            line = b""
        if not line.endswith(b"\n"):
            self._ended(line, limit)
        return line

    def _ended(self, line: bytes, limit: int) -> None:
        if len(line) > limit:
            raise HttpError(HTTPStatus.BAD_REQUEST, "malformed chunked body: line too long")
        self._stopped()

    def _read1(self, n: int) -> bytes:
        try:
            chunk = self.rfile.read1(n)
        except OSError:  # reset by the client, or our deadline shut the socket
            chunk = b""
        if not chunk:
            self._stopped()
        return chunk

    def _stopped(self) -> None:
        if self.expired():
            raise HttpError(HTTPStatus.REQUEST_TIMEOUT, "request took too long")
        raise HttpError(HTTPStatus.BAD_REQUEST, "body ended early")
