"""The lake's manifest: one JSON entry per committed batch, chained by hashes (tamper evidence).

An entry lists the input files it ingested (sha256 and reconciled counts) and the Parquet files it
added (and, for derived tables, the files it replaced). Each entry carries the hash of the previous
one, so changing, removing or reordering entries breaks the chain, and every listed file is
re-hashed by `verify_lake`. Writing the entry is the commit point: readers see only listed files.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from agentwatch.errors import TamperError

MANIFEST_DIR = "_manifest"
GENESIS = "0" * 64
TABLE_DIRS = ("events", "_quarantine")  # tables whose Parquet files `verify` accounts for, at least


def manifest_dir(lake: Path) -> Path:
    """The folder holding the entries."""
    return lake / MANIFEST_DIR


def read_entries(lake: Path) -> list[dict[str, Any]]:
    """All entries in commit order (by file name, which is the zero-padded sequence number)."""
    folder = manifest_dir(lake)
    if not folder.is_dir():
        return []
    names = sorted(p for p in folder.iterdir() if p.suffix == ".json" and not p.name.startswith("."))
    entries = []
    for path in names:
        try:
            entries.append(orjson.loads(path.read_bytes()))
        except orjson.JSONDecodeError as exc:
            raise TamperError(f"manifest entry is not valid JSON ({exc})", str(path)) from exc
    return entries


def entry_hash(entry: dict[str, Any]) -> str:
    """sha256 over the entry's canonical JSON, its own `hash` left out."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def append_entry(lake: Path, entry: dict[str, Any]) -> dict[str, Any]:
    """Chain `entry` after the last one and write it atomically; returns the entry as written."""
    entries = read_entries(lake)
    entry = {**entry, "seq": len(entries) + 1, "prev_hash": entries[-1]["hash"] if entries else GENESIS}
    entry["hash"] = entry_hash(entry)
    write_atomic(manifest_dir(lake) / f"{entry['seq']:08d}.json", orjson.dumps(entry, option=orjson.OPT_INDENT_2))
    return entry


def live_files(entries: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Relative path -> output record of every file the manifest says is in the lake now."""
    files: dict[str, dict[str, Any]] = {}
    for entry in entries:
        for path in entry.get("removes", ()):
            files.pop(path, None)
        for output in entry.get("outputs", ()):
            files[output["path"]] = {**output, "entry": entry["seq"]}
    return files


def committed_files(lake: Path, table: str) -> list[str]:
    """Absolute paths of the live Parquet files of one table, in commit order."""
    return [str(lake / path) for path, out in live_files(read_entries(lake)).items() if out["table"] == table]


def ingested_hashes(lake: Path) -> dict[str, dict[str, bool]]:
    """sha256 of every input file already ingested -> the formats it was read as, and whether any of
    its events were stored under that format (written, or already in the lake)."""
    known: dict[str, dict[str, bool]] = {}
    for entry in read_entries(lake):
        for record in entry.get("inputs", ()):
            if record.get("status") != "ingested":
                continue
            stored = record.get("events_written", 0) + record.get("duplicates", 0) > 0
            formats = known.setdefault(record["sha256"], {})
            formats[record.get("format", "")] = formats.get(record.get("format", ""), False) or stored
    return known


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


@dataclass(frozen=True)
class Verification:
    """What `verify_lake` checked and found."""

    entries: int
    files: int
    head: str
    problems: tuple[str, ...]


def verify_lake(lake: Path, expect_head: str | None = None) -> Verification:
    """Re-hash every file against the manifest chain; list each change, removal, addition, reordering."""
    entries = read_entries(lake)
    problems = _check_chain(lake, entries)
    files = live_files(entries)
    for rel, out in sorted(files.items()):
        problems.extend(_check_file(lake, rel, out))
    problems.extend(f"{rel}: file is not in the manifest (added after the fact?)" for rel in _unlisted(lake, files))
    head = entries[-1]["hash"] if entries else GENESIS
    if expect_head and expect_head != head:
        problems.append(f"manifest head is {head}, expected {expect_head} (entries removed or rewritten?)")
    return Verification(len(entries), len(files), head, tuple(problems))


def _check_chain(lake: Path, entries: list[dict[str, Any]]) -> list[str]:
    problems = []
    prev = GENESIS
    for number, entry in enumerate(entries, start=1):
        where = f"{MANIFEST_DIR}/{number:08d}.json"
        if entry.get("seq") != number:
            problems.append(f"{where}: holds entry seq {entry.get('seq')}, expected {number} (removed or reordered)")
        if entry.get("prev_hash") != prev:
            problems.append(f"{where}: prev_hash does not match the entry before it (removed, reordered or edited)")
        if entry.get("hash") != entry_hash(entry):
            problems.append(f"{where}: entry was edited after it was written (hash mismatch)")
        prev = entry.get("hash", "")
    listed = {f"{n:08d}.json" for n in range(1, len(entries) + 1)}
    folder = manifest_dir(lake)
    if folder.is_dir():
        extra = sorted(p.name for p in folder.iterdir() if p.suffix == ".json" and p.name not in listed)
        problems.extend(f"{MANIFEST_DIR}/{name}: unexpected manifest file" for name in extra)
    return problems


def _check_file(lake: Path, rel: str, out: dict[str, Any]) -> list[str]:
    path = lake / rel
    if not path.is_file():
        return [f"{rel}: listed in manifest entry {out['entry']} but missing (removed after the fact)"]
    actual = sha256_file(path)
    if actual != out["sha256"]:
        return [f"{rel}: content changed (manifest entry {out['entry']} has sha256 {out['sha256'][:16]}…, "
                f"file has {actual[:16]}…)"]
    return []


def _unlisted(lake: Path, files: dict[str, Any]) -> list[str]:
    found = []
    for table_dir in {*TABLE_DIRS, *(rel.split("/", 1)[0] for rel in files)}:
        root = lake / table_dir
        if root.is_dir():
            found.extend(p.relative_to(lake).as_posix() for p in root.rglob("*.parquet"))
    return sorted(rel for rel in found if rel not in files)
