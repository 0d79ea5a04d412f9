"""Read a JSON Lines file (plain or .gz) as batches of raw lines, in bounded memory.

Lines stay bytes here: UTF-8 and JSON validity are judged later, per line, so one bad line never
costs the rest of its batch. A line longer than `max_line_bytes` is not held in memory: it is
reported as an `OversizeLine` (head, length, sha256) and quarantined.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from agentwatch.errors import InputError

CHUNK_BYTES = 32 << 20
MAX_LINE_BYTES = 64 << 20
OVERSIZE_HEAD_BYTES = 64 << 10


@dataclass(frozen=True)
class LineBatch:
    """Consecutive lines of one file, without their newlines."""

    lines: pa.LargeBinaryArray
    offsets: np.ndarray  # byte offset of each line's start in the (decompressed) stream
    line_nos: np.ndarray  # 1-based
    unterminated_last: bool  # the file ended without a newline after the last line


@dataclass(frozen=True)
class OversizeLine:
    """A line longer than the limit: only its head is kept."""

    offset: int
    line_no: int
    length: int
    head: bytes
    sha256: str


def open_input(path: Path) -> BinaryIO:
    """Open a file for binary reading, transparently decompressing `.gz`."""
    try:
        return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")
    except OSError as exc:
        raise InputError(f"cannot read input: {exc.strerror or exc}", str(path)) from exc


def iter_line_batches(
    path: Path, chunk_bytes: int = CHUNK_BYTES, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[LineBatch | OversizeLine]:
    """Yield the file's lines in batches of about `chunk_bytes`; errors name the file."""
    with open_input(path) as stream:
        try:
            yield from _split_stream(stream, chunk_bytes, max_line_bytes)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"cannot read input (corrupt or truncated?): {exc}", str(path)) from exc


def _split_stream(stream: BinaryIO, chunk_bytes: int, max_line_bytes: int) -> Iterator[LineBatch | OversizeLine]:
    carry = b""
    base = 0  # stream offset of carry[0]
    line_no = 0
    while data := stream.read(chunk_bytes):
        buf = carry + data if carry else data
        cut = buf.rfind(b"\n")
        if cut < 0:
            carry = buf
            if len(carry) > max_line_bytes:
                oversize, carry, consumed = _skip_oversize(stream, carry, base, line_no + 1, chunk_bytes)
                yield oversize
                base += consumed
                line_no += 1
            continue
        for piece in _split_block(buf[:cut], base, line_no, max_line_bytes):
            yield piece
            line_no += len(piece.line_nos) if isinstance(piece, LineBatch) else 1
        base += cut + 1
        carry = buf[cut + 1 :]
    if carry:
        yield _make_batch(carry, base, line_no, unterminated=True)


def _split_block(block: bytes, base: int, line_no: int, max_line_bytes: int) -> Iterator[LineBatch | OversizeLine]:
    """A block of whole lines as batches, with every line over the limit taken out as an `OversizeLine`
    (a line can outgrow the limit inside a block: the carry is checked only while no newline is seen)."""
    batch = _make_batch(block, base, line_no, unterminated=False)
    offsets = batch.offsets - base
    ends = np.append(offsets[1:] - 1, len(block))
    long_lines = np.flatnonzero(ends - offsets > max_line_bytes).tolist()
    if not long_lines:
        yield batch
        return
    starts, stops = offsets.tolist(), ends.tolist()
    first = 0
    for k in long_lines:
        if k > first:
            yield _make_batch(block[starts[first] : starts[k] - 1], base + starts[first], line_no + first, False)
        line = block[starts[k] : stops[k]]
        digest = hashlib.sha256(line).hexdigest()
        yield OversizeLine(base + starts[k], line_no + k + 1, len(line), safe_head(line), digest)
        first = k + 1
    if first < len(starts):
        yield _make_batch(block[starts[first] :], base + starts[first], line_no + first, False)


# A head cut inside a token would keep the token's prefix, which no rule can recognise as a secret:
# the head ends at the last delimiter instead, dropping the partial token.
_DELIMITERS = re.compile(rb"""[\s"',;{}\[\]()<>\\]""")


def safe_head(line: bytes, limit: int | None = None) -> bytes:
    """The first `limit` bytes (default OVERSIZE_HEAD_BYTES) of a line, ending at a delimiter so no token
    is cut in two."""
    limit = OVERSIZE_HEAD_BYTES if limit is None else limit
    if len(line) <= limit:
        return line
    head = line[:limit]
    last = max((m.end() for m in _DELIMITERS.finditer(head, max(0, limit - 4096))), default=0)
    return head[:last]


def _skip_oversize(
    stream: BinaryIO, carry: bytes, base: int, line_no: int, chunk_bytes: int
) -> tuple[OversizeLine, bytes, int]:
    """Stream past a line with no newline in sight; return it, the bytes after it, bytes consumed."""
    head = safe_head(carry)
    digest = hashlib.sha256(carry)
    length = len(carry)
    rest = b""
    while data := stream.read(chunk_bytes):
        cut = data.find(b"\n")
        if cut >= 0:
            digest.update(data[:cut])
            length += cut
            rest = data[cut + 1 :]
            break
        digest.update(data)
        length += len(data)
    oversize = OversizeLine(base, line_no, length, head, digest.hexdigest())
    return oversize, rest, length + 1


def _make_batch(block: bytes, base: int, first_line_no: int, unterminated: bool) -> LineBatch:
    lines = pc.split_pattern(pa.array([block], pa.large_binary()), b"\n").values
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset : lines.offset + len(lines) + 1]
    starts = offsets[:-1] - offsets[0]
    index = np.arange(len(lines), dtype=np.int64)
    return LineBatch(
        lines=lines,
        offsets=base + starts + index,
        line_nos=first_line_no + 1 + index,
        unterminated_last=unterminated,
    )
