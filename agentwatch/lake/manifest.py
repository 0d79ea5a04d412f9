"""The lake's manifest: one JSON entry per commit, chained by hashes (tamper evidence).

An entry lists the Parquet files it added (table, key, rows, bytes, sha256) and the files it
replaced; an ingest entry also lists its input files with reconciled counts. Each entry carries the
hash of the previous one, so changing, removing or reordering entries breaks the chain. Writing the
entry is the commit point: readers see only files a live entry lists.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import orjson

from agentwatch.errors import TamperError
from agentwatch.lake.layout import MANIFEST_DIR
from agentwatch.lake.store import LocalStore

GENESIS = "0" * 64


def entry_keys(store: LocalStore) -> list[str]:
    """Keys of the entry files, in commit order (names are zero-padded sequence numbers)."""
    return [k for k in store.list(MANIFEST_DIR) if k.endswith(".json") and not k.rsplit("/", 1)[-1].startswith(".")]


def entry_key(seq: int) -> str:
    """The key of entry number `seq`."""
    return f"{MANIFEST_DIR}/{seq:08d}.json"


def parse_entry(key: str, data: bytes) -> dict[str, Any]:
    """One entry, or a TamperError naming its file when it is not a JSON object."""
    if not data.strip():
        raise TamperError("manifest entry is empty", key)
    try:
        entry = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise TamperError(f"manifest entry is not valid JSON ({exc})", key) from exc
    if not isinstance(entry, dict) or not entry:
        raise TamperError("manifest entry is empty", key)
    return entry


def read_entries(store: LocalStore) -> list[dict[str, Any]]:
    """All entries in commit order."""
    return [parse_entry(key, store.read_bytes(key)) for key in entry_keys(store)]


def entry_hash(entry: dict[str, Any]) -> str:
    """sha256 over the entry's canonical JSON, its own `hash` left out."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def append_entry(store: LocalStore, entries: list[dict[str, Any]], entry: dict[str, Any]) -> dict[str, Any]:
    """Chain `entry` after the last of `entries` and create it (never over another writer's entry of that
    number); returns the entry as written."""
    entry = {**entry, "seq": len(entries) + 1, "prev_hash": entries[-1]["hash"] if entries else GENESIS}
    entry["hash"] = entry_hash(entry)
    store.create(entry_key(entry["seq"]), orjson.dumps(entry, option=orjson.OPT_INDENT_2))
    return entry


def live_files(entries: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Key -> output record of every file the manifest says is in the lake now."""
    files: dict[str, dict[str, Any]] = {}
    for entry in entries:
        for key in entry.get("removes", ()):
            files.pop(key, None)
        for output in entry.get("outputs", ()):
            files[output["path"]] = {**output, "entry": entry["seq"]}
    return files


def ingested_hashes(entries: Iterable[dict[str, Any]]) -> dict[str, dict[str, bool]]:
    """sha256 of every input file already ingested -> the formats it was read as, and whether any of
    its events (or metric points) were stored under that format (written, or already in the lake)."""
    known: dict[str, dict[str, bool]] = {}
    for entry in entries:
        for record in entry.get("inputs", ()):
            if record.get("status") != "ingested":
                continue
            stored = sum(record.get(k, 0) for k in ("events_written", "duplicates", "points_written",
                                                     "point_duplicates")) > 0
            formats = known.setdefault(record["sha256"], {})
            formats[record.get("format", "")] = formats.get(record.get("format", ""), False) or stored
    return known
