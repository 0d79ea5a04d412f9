"""Where a lake's files live. Everything the lake does to files goes through a store, addressed by
keys ('/'-separated paths relative to the lake's location), so another store (object storage) can
stand in for the local folder without touching any writer.

`LocalStore` is a folder: writes land under a temporary name in the same folder, are fsynced and
renamed into place, so a reader sees a whole file or none.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from agentwatch.errors import LakeError
from agentwatch.lake.layout import LOCK_FILE
from agentwatch.lake.scratch import LocalScratch

if TYPE_CHECKING:  # s3fs (and aiobotocore) load for an s3:// lake only
    from agentwatch.lake.s3store import S3Store


class LocalStore(LocalScratch):
    """A lake's files in a local folder."""

    def __init__(self, location: str | Path):
        self.location = str(location)
        self.root = Path(location)

    def uri(self, key: str) -> str:
        """What DuckDB opens to read a key."""
        return str(self.root / key)

    def allowed_uri(self, folder: str) -> str:
        """What DuckDB's `allowed_directories` takes for a folder of the lake."""
        return str((self.root / folder).resolve())

    def register(self, con) -> None:
        """Nothing to do: DuckDB reads local files itself."""

    def exists(self, key: str = "") -> bool:
        """A file or folder is at the key."""
        return (self.root / key).exists()

    def is_file(self, key: str) -> bool:
        """A file (not a folder) is at the key."""
        return (self.root / key).is_file()

    def read_bytes(self, key: str) -> bytes:
        """A file's bytes."""
        return (self.root / key).read_bytes()

    def write_atomic(self, key: str, data: bytes) -> None:
        """Write a small file whole (readers see the old content or the new, never part)."""
        write_atomic(self.root / key, data)

    def create(self, key: str, data: bytes) -> None:
        """Write a file that must not exist yet (a manifest entry); a LakeError if another writer made it."""
        path = self.root / key
        write_atomic(path.with_name(f".{path.name}.new"), data)
        try:
            os.link(path.with_name(f".{path.name}.new"), path)
        except FileExistsError as exc:
            raise LakeError(f"{key} was committed by another writer", self.location) from exc
        finally:
            path.with_name(f".{path.name}.new").unlink(missing_ok=True)
        fsync_dir(path.parent)

    def put_file(self, local: Path, key: str) -> None:
        """Move a finished local file to the key, durably."""
        with open(local, "rb") as f:
            os.fsync(f.fileno())
        publish(local, self.root / key)

    def delete(self, key: str) -> None:
        """Remove a file (gone already is fine)."""
        (self.root / key).unlink(missing_ok=True)

    def list(self, prefix: str = "") -> list[str]:
        """Keys of every file under a folder key, recursively, sorted."""
        base = self.root / prefix
        if not base.is_dir():
            return []
        return sorted(p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file() or p.is_symlink())

    def top_level(self) -> list[str]:
        """Names of the entries at the top of the lake."""
        return sorted(p.name for p in self.root.iterdir()) if self.root.is_dir() else []

    def sha256(self, key: str) -> str:
        """Hex sha256 of a file's bytes."""
        return sha256_file(self.root / key)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the single-writer lock; a second writer fails at once, naming the lake."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK_FILE, "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise LakeError("another agentwatch process is writing this lake", self.location) from exc
            yield


def open_store(location: str | Path) -> LocalStore | S3Store:
    """The store for a lake location: `s3://bucket/prefix` on object storage, else a local folder."""
    text = str(location)
    if text.startswith("s3://"):
        from agentwatch.lake.s3store import S3Store

        return S3Store(text)
    if "://" in text:
        raise LakeError(f"a lake is a local folder or an s3:// location, not {text.split('://', 1)[0]}://", text)
    return LocalStore(location)


def lake_location(text: str | Path) -> str | Path:
    """A lake setting as given: an s3:// URI kept as text (a Path would fold its '//'), else a Path."""
    return str(text) if str(text).startswith("s3://") else Path(text)


def local_folder(location: str | Path) -> Path:
    """The local folder beside a lake (spool, masking key, Prefect's home, run lock): the lake folder
    itself, or an s3:// lake's local working folder."""
    return open_store(location).root


def sha256_file(path: Path, block: int = 4 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary name in the same folder, fsync, rename: readers see all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    publish(tmp, path)


def publish(tmp: Path, path: Path) -> None:
    """Rename an fsynced file into place and fsync its folder so the rename survives a crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a folder's entries (a rename, a new file) durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
