"""Writers over the session model: files of encoded sessions (one per format, agent and day), labels.csv.

Output is byte-reproducible: gzip members carry no file name and mtime 0, keys keep insertion order,
and nothing reads the clock. A writer for another format takes the same `Session` objects.
"""

from __future__ import annotations

import gzip
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import orjson

from agentwatch.sample.model import Session

MS_PER_DAY = 86_400_000
FLUSH_BYTES = 1 << 20  # hand lines to the writer thread in chunks of about this size
MAX_PENDING = 4  # chunks queued for the writer thread at most
GZIP_LEVEL = 3  # measured: about level 6's size at twice its speed
_MINUTES: dict[int, str] = {}  # epoch minute -> "YYYY-MM-DDTHH:MM:"; formatting per event is the hot path


def iso_ms(ms: int) -> str:
    """Epoch milliseconds as ISO-8601 UTC with a `Z`, millisecond precision."""
    minute, rest = divmod(ms, 60_000)
    prefix = _MINUTES.get(minute)
    if prefix is None:
        if len(_MINUTES) > 100_000:
            _MINUTES.clear()
        prefix = _MINUTES[minute] = datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%dT%H:%M:")
    return f"{prefix}{rest // 1000:02d}.{rest % 1000:03d}Z"


def native_lines(session: Session) -> list[bytes]:
    """The session's events as native JSON Lines records (null fields left out)."""
    common = {"agent_id": session.agent_id, "session_id": session.session_id}
    if session.parent_session_id is not None:
        common["parent_session_id"] = session.parent_session_id
    common["trace_id"] = session.trace_id
    sid = session.session_id
    dumps, option = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    lines = []
    for event in session.events:
        record = {"event_id": f"{sid}.{event['seq']}", **common, **event}
        record["ts"] = iso_ms(event["ts"])
        lines.append(dumps(record, option=option))
    return lines


def encode_native(tree: Session) -> list[bytes]:
    """A session and its sub-agent sessions as native JSON Lines, one line per event."""
    return [line for part in tree.walk() for line in native_lines(part)]


class SessionWriter:
    """Writes session trees to `out/<format>/<agent_id>/<date>.jsonl[.gz]`, one open file at a time.

    Each file gets its own encoder (native, OTLP/JSON, ...): a function from a session tree to lines.
    Lines are buffered and handed to one background thread that compresses and writes them (zlib
    releases the GIL), so generation and compression overlap; a bounded queue keeps memory flat.
    """

    def __init__(self, out: Path, compress: bool = True, level: int = GZIP_LEVEL):
        self.out = Path(out)
        self.compress = compress
        self.level = level
        self.events = 0
        self.files: list[Path] = []
        self._encode: Callable[[Session], list[bytes]] = encode_native
        self._raw: BinaryIO | None = None
        self._out: BinaryIO | None = None
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sample-writer")
        self._pending: deque[Future] = deque()

    def open(self, fmt: str, agent_id: str, date: str, encode: Callable[[Session], list[bytes]]) -> None:
        """Start the file for one format, agent and day (closing the previous one)."""
        self._finish_file()
        folder = self.out / fmt / agent_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{date}.jsonl{'.gz' if self.compress else ''}"
        self._raw = path.open("wb")
        self._out = self._raw
        if self.compress:
            self._out = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, compresslevel=self.level, mtime=0)
        self._encode = encode
        self.files.append(path)

    def write(self, tree: Session) -> None:
        """Append a session and its sub-agent sessions."""
        lines = self._encode(tree)
        self.events += sum(len(part.events) for part in tree.walk())
        self._buffer.extend(lines)
        self._buffered += sum(map(len, lines))
        if self._buffered >= FLUSH_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            self._pending.append(self._pool.submit(self._out.write, b"".join(self._buffer)))
            self._buffer, self._buffered = [], 0
        while len(self._pending) > MAX_PENDING:
            self._pending.popleft().result()

    def _finish_file(self) -> None:
        if self._out is None:
            return
        self._flush()
        while self._pending:
            self._pending.popleft().result()
        if self._out is not self._raw:
            self._out.close()
        self._raw.close()
        self._raw = self._out = None

    def close(self) -> None:
        """Finish the current file and stop the writer thread."""
        try:
            self._finish_file()
        finally:
            self._pool.shutdown(wait=True)


class LabelWriter:
    """Writes labels.csv: `session_id,label,scenario`, one row per session including sub-agents."""

    def __init__(self, path: Path):
        self._file = Path(path).open("w", encoding="utf-8", newline="\n")  # noqa: SIM115 - closed by close()
        self._file.write("session_id,label,scenario\n")
        self.sessions = 0

    def write(self, session: Session) -> None:
        """Label a session and its sub-agent sessions."""
        for part in session.walk():
            self._file.write(f"{part.session_id},{part.label},{part.scenario}\n")
            self.sessions += 1

    def close(self) -> None:
        """Flush and close the file."""
        self._file.close()
