"""A lake on S3-compatible object storage (`s3://bucket/prefix`), through s3fs.

Credentials, region and endpoint come from the standard AWS environment variables
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_S3),
read by botocore itself. The guarantees of a local lake hold here too:
- a data file is published as one whole object (staged locally, then uploaded; a multipart upload
  becomes visible only when it completes), and readers only open files a manifest entry lists, so
  an uploaded but uncommitted object is a leftover the next writer removes;
- a manifest entry is created with a conditional put (`If-None-Match: *`): a second writer that
  tries the same entry number gets 412 and fails, never overwriting a commit;
- the writer lock is an object `_lock` created the same way, holding its owner and an expiry. A
  live lock refuses a second writer at once; a lock past its expiry (its writer crashed) is taken
  over with a put conditional on the old lock's ETag, so two writers cannot both take it.

What must stay local (writers' staging, DuckDB's spill folder, the masking key, the receiver's
spool, Prefect's home, the run lock) lives in a local working folder, `root`: the masking key is
never uploaded next to the data it protects.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import orjson
import s3fs
from fsspec.asyn import sync

from agentwatch.errors import LakeError
from agentwatch.lake.layout import LOCK_FILE
from agentwatch.lake.scratch import LocalScratch

LOCK_TTL_SECONDS = 6 * 3600  # a lock older than this is a crashed writer's, and may be taken over


class S3Store(LocalScratch):
    """A lake's files under a prefix of an S3 bucket; local needs go to a working folder."""

    def __init__(self, location: str, work_dir: Path | None = None, lock_ttl: float = LOCK_TTL_SECONDS):
        self.location = location.rstrip("/")
        self.bucket, _, prefix = self.location.removeprefix("s3://").partition("/")
        if not self.bucket:
            raise LakeError("an s3:// lake needs a bucket name (s3://bucket/prefix)", location)
        self.prefix = prefix.strip("/")
        self.base = f"{self.bucket}/{self.prefix}" if self.prefix else self.bucket
        self.root = (work_dir or default_work_dir()) / self.base
        self.lock_ttl = lock_ttl
        # no listing cache: another process's commits must show on the next listing
        self.fs = s3fs.S3FileSystem(use_listings_cache=False, skip_instance_cache=True)

    def uri(self, key: str) -> str:
        """What DuckDB (with `register` done) opens to read a key."""
        return f"s3://{self._path(key)}"

    def allowed_uri(self, folder: str) -> str:
        """What DuckDB's `allowed_directories` takes for a folder of the lake."""
        return f"s3://{self._path(folder)}/"

    def register(self, con) -> None:
        """Let a DuckDB connection read s3:// through this store's file system (no httpfs download)."""
        con.register_filesystem(self.fs)

    def exists(self, key: str = "") -> bool:
        """A file or folder is at the key."""
        return bool(self._call(self.fs._exists, self._path(key)))

    def is_file(self, key: str) -> bool:
        """A file (not a folder) is at the key."""
        return bool(self._call(self.fs._isfile, self._path(key)))

    def read_bytes(self, key: str) -> bytes:
        """A file's bytes."""
        return self._call(self.fs._cat_file, self._path(key))

    def write_atomic(self, key: str, data: bytes) -> None:
        """Write a small file whole (a single PUT: readers see the old object or the new)."""
        self._put_object(key, data)

    def create(self, key: str, data: bytes) -> None:
        """Write a file that must not exist yet (a manifest entry): a conditional put, 412 if it does."""
        try:
            self._put_object(key, data, IfNoneMatch="*")
        except FileExistsError as exc:
            raise LakeError(f"{key} was committed by another writer", self.location) from exc

    def put_file(self, local: Path, key: str) -> None:
        """Upload a finished local file as one object, then drop the local copy."""
        self._call(self.fs._put_file, str(local), self._path(key))
        local.unlink()

    def delete(self, key: str) -> None:
        """Remove a file (gone already is fine)."""
        with suppress(FileNotFoundError):
            self._call(self.fs._rm_file, self._path(key))

    def list(self, prefix: str = "") -> list[str]:
        """Keys of every file under a folder key, recursively, sorted."""
        base = self._path(prefix)
        try:
            found = self._call(self.fs._find, base)
        except FileNotFoundError:
            return []
        return sorted(p[len(self.base) + 1:] for p in found if p.startswith(self.base + "/"))

    def top_level(self) -> list[str]:
        """Names of the entries at the top of the lake."""
        return sorted({key.split("/", 1)[0] for key in self.list()})

    def sha256(self, key: str) -> str:
        """Hex sha256 of a file's bytes, streamed."""
        digest = hashlib.sha256()
        with self.fs.open(self._path(key), "rb", block_size=4 << 20) as f:
            while chunk := f.read(4 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the writer lock object; a live lock of another writer fails at once, naming the lake."""
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
        body = orjson.dumps({"owner": owner, "expires_at": time.time() + self.lock_ttl})
        try:
            self._put_object(LOCK_FILE, body, IfNoneMatch="*")
        except FileExistsError:
            self._take_over(body)
        try:
            yield
        finally:
            if self._lock_owner() == owner:
                self.delete(LOCK_FILE)

    def _take_over(self, body: bytes) -> None:
        """Replace a lock past its expiry, conditional on its ETag (only one writer can win)."""
        head = self._call(self.fs._call_s3, "get_object", Bucket=self.bucket, Key=self._key(LOCK_FILE))
        held = orjson.loads(sync(self.fs.loop, head["Body"].read))
        if held.get("expires_at", 0) > time.time():
            raise LakeError(f"another agentwatch process is writing this lake (lock {held.get('owner')!r}, "
                            f"until {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(held['expires_at']))})",
                            self.location)
        try:
            self._put_object(LOCK_FILE, body, IfMatch=head["ETag"])
        except (FileExistsError, FileNotFoundError) as exc:
            raise LakeError("another agentwatch process took over this lake's expired lock", self.location) from exc

    def _lock_owner(self) -> str | None:
        try:
            return orjson.loads(self.read_bytes(LOCK_FILE)).get("owner")
        except (FileNotFoundError, orjson.JSONDecodeError):
            return None

    def _put_object(self, key: str, data: bytes, **conditions: str) -> None:
        self._call(self.fs._call_s3, "put_object", Bucket=self.bucket, Key=self._key(key), Body=data, **conditions)

    def _call(self, coroutine, *args, **kwargs):
        return sync(self.fs.loop, coroutine, *args, **kwargs)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _path(self, key: str) -> str:
        return f"{self.base}/{key}".rstrip("/") if key else self.base


def default_work_dir() -> Path:
    """The local working folder of s3:// lakes: under the user's cache (the same from any folder, so
    a served flow finds the masking key the CLI created)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "agentwatch" / "s3"
