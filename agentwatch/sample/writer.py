"""Writers over the session model: native JSON Lines (one file per agent per day) and labels.csv.

Output is byte-reproducible: gzip members carry no file name and mtime 0, keys keep insertion order,
and nothing reads the clock. A writer for another format takes the same `Session` objects.
"""

from __future__ import annotations

import gzip
from collections import deque
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


class NativeWriter:
    """Writes native JSONL to `root/<agent_id>/<date>.jsonl[.gz]`, one open file at a time.

    Lines are buffered and handed to one background thread that compresses and writes them (zlib
    releases the GIL), so generation and compression overlap; a bounded queue keeps memory flat.
    """

    def __init__(self, root: Path, compress: bool = True, level: int = GZIP_LEVEL):
        self.root = Path(root)
        self.compress = compress
        self.level = level
        self.events = 0
        self.files: list[Path] = []
        self._raw: BinaryIO | None = None
        self._out: BinaryIO | None = None
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sample-writer")
        self._pending: deque[Future] = deque()

    def open(self, agent_id: str, date: str) -> None:
        """Start the file for one agent and day (closing the previous one)."""
        self._finish_file()
        folder = self.root / agent_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{date}.jsonl{'.gz' if self.compress else ''}"
        self._raw = path.open("wb")
        self._out = self._raw
        if self.compress:
            self._out = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, compresslevel=self.level, mtime=0)
        self.files.append(path)

    def write(self, session: Session) -> None:
        """Append a session and its sub-agent sessions."""
        for part in session.walk():
            lines = native_lines(part)
            self.events += len(lines)
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
