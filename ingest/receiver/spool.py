"""The receiver's spool: one durable, complete file per acknowledged OTLP request.

A request's lines are written, as they are decoded, to a hidden temporary file named after the writing
process; on success it is fsynced, renamed to `<seq>-<uuid>.jsonl` and the folder fsynced, so a visible
spool file is always whole. On any failure (a full disk, a request refused half-way) the temporary file
is removed at once; a crash leaves it behind, and the next `Spool` of the folder removes every
temporary file whose process is gone. `seq` is 20 zero-padded digits, strictly increasing within a
spool (nanosecond clock at the rename, bumped past the last name seen), so sorting names sorts arrival.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from agentwatch.lake import SPOOL_DIR, fsync_dir, local_folder

SUFFIX = ".jsonl"
TMP_SUFFIX = ".tmp"


def default_spool_dir(lake: str | Path) -> Path:
    """Where `agentwatch receive` spools by default: `<lake>/_spool/otlp`."""
    return local_folder(lake) / SPOOL_DIR / "otlp"


def spooled_files(spool_dir: str | Path) -> list[Path]:
    """The complete spool files, oldest first (temporary files are never listed)."""
    folder = Path(spool_dir)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix == SUFFIX and not p.name.startswith("."))


def remove_leftovers(folder: Path) -> list[Path]:
    """Remove temporary files of writers that are gone (a crash mid-write); return what was removed."""
    removed = []
    for path in folder.glob(f".*{TMP_SUFFIX}"):
        if not _writer_alive(path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            removed.append(path)
    return removed


def _writer_alive(path: Path) -> bool:
    pid = path.name.removesuffix(TMP_SUFFIX).rsplit(".", 1)[-1]
    if not pid.isdigit() or int(pid) == os.getpid():  # our own leftovers are from before this Spool
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


class SpoolFile:
    """One request's lines, being written; invisible until its `Spool` commits it."""

    def __init__(self, tmp: Path, out: BinaryIO):
        self.tmp, self.out, self.lines = tmp, out, 0
        self.path: Path | None = None  # the spool file, once committed

    def add(self, line: bytes) -> None:
        """Append one JSON line."""
        self.out.write(line + b"\n")
        self.lines += 1


class Spool:
    """Writes spool files; safe to share between the server's threads."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.leftovers = remove_leftovers(self.folder)
        self._last = max((_seq_of(p) for p in spooled_files(self.folder)), default=0)

    @contextlib.contextmanager
    def open(self) -> Iterator[SpoolFile]:
        """A file to add lines to: committed (fsync, rename) when the block ends, removed if it raises;
        a file with no line is not kept."""
        tmp = self.folder / f".{uuid.uuid4().hex}{SUFFIX}.{os.getpid()}{TMP_SUFFIX}"
        try:
            with open(tmp, "xb") as out:
                spooled = SpoolFile(tmp, out)
                yield spooled
                out.flush()
                if spooled.lines:
                    os.fsync(out.fileno())
            if spooled.lines:
                spooled.path = self._commit(tmp)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def write(self, lines: list[bytes]) -> Path | None:
        """Durably write one file of JSON lines and return its final path (None for no line)."""
        with self.open() as spooled:
            for line in lines:
                spooled.add(line)
        return spooled.path

    def _commit(self, tmp: Path) -> Path:
        with self._lock:
            self._last = max(time.time_ns(), self._last + 1)
            final = self.folder / f"{self._last:020d}-{uuid.uuid4().hex}{SUFFIX}"
            os.replace(tmp, final)
        fsync_dir(self.folder)
        return final


def _seq_of(path: Path) -> int:
    head = path.name.split("-", 1)[0]
    return int(head) if head.isdigit() else 0
