"""The receiver's spool: one durable, complete file per acknowledged OTLP request.

A file is written under a hidden temporary name, fsynced, renamed to `<seq>-<uuid>.jsonl` and the
folder fsynced, so a visible spool file is always whole and a crash leaves at most a hidden `.tmp`.
`seq` is 20 zero-padded digits, strictly increasing within a spool (nanosecond clock, bumped past the
last name seen), so sorting names sorts arrival.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path

from agentwatch.lake import SPOOL_DIR, fsync_dir, local_folder

SUFFIX = ".jsonl"


def default_spool_dir(lake: str | Path) -> Path:
    """Where `agentwatch receive` spools by default: `<lake>/_spool/otlp`."""
    return local_folder(lake) / SPOOL_DIR / "otlp"


def spooled_files(spool_dir: str | Path) -> list[Path]:
    """The complete spool files, oldest first (temporary files are never listed)."""
    folder = Path(spool_dir)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix == SUFFIX and not p.name.startswith("."))


class Spool:
    """Writes spool files; safe to share between the server's threads."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._last = max((_seq_of(p) for p in spooled_files(self.folder)), default=0)

    def write(self, lines: list[bytes]) -> Path:
        """Durably write one file of JSON lines and return its final path."""
        name = f"{self._next_seq():020d}-{uuid.uuid4().hex}{SUFFIX}"
        tmp, final = self.folder / f".{name}.tmp", self.folder / name
        with open(tmp, "xb") as out:
            out.write(b"".join(line + b"\n" for line in lines))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, final)
        fsync_dir(self.folder)
        return final

    def _next_seq(self) -> int:
        with self._lock:
            self._last = max(time.time_ns(), self._last + 1)
            return self._last


def _seq_of(path: Path) -> int:
    head = path.name.split("-", 1)[0]
    return int(head) if head.isdigit() else 0

