"""`verify`: re-hash every file against the manifest's hash chain and account for every file in
the lake folder.

Three kinds of finding, each its own list:
- problems (tampering): an entry changed, removed, reordered, empty or not JSON; a listed file
  changed or missing; a data file of a committed entry that no entry lists (added after the fact);
- leftovers: files a writer renamed into place for an entry it never committed (killed before the
  commit), staging it left in `_tmp/`, files a commit replaced but did not get to remove; the next
  write removes them all;
- unowned: files no table owns (a stray file at the top, in an unknown folder, a `*.parquet.tmp`
  beside a table's files, a `*.json.bak` in `_manifest/`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentwatch.errors import TamperError
from agentwatch.lake.core import Lake
from agentwatch.lake.layout import INGEST_FOLDERS, MANIFEST_DIR, SERVICE_ENTRIES, TMP_DIR, part_seq, table_folder
from agentwatch.lake.manifest import GENESIS, entry_hash, entry_key, entry_keys, live_files, parse_entry


@dataclass(frozen=True)
class Verification:
    """What `verify_lake` checked and found."""

    entries: int
    files: int
    head: str
    problems: tuple[str, ...]  # tampering
    leftovers: tuple[str, ...] = ()  # an interrupted writer's files, cleared by the next write
    unowned: tuple[str, ...] = ()  # files no table owns


def verify_lake(lake: Lake | Path | str, expect_head: str | None = None) -> Verification:
    """Check the chain, every listed file's hash, and what else lies in the lake folder."""
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    entries, problems = _read_chain(lake)
    files = live_files(e for e in entries if e)
    for key, out in sorted(files.items()):
        problems.extend(_check_file(lake, key, out))
    tampered, leftovers, unowned = _account(lake, entries, files)
    problems.extend(tampered)
    head = next((e.get("hash", "") for e in reversed(entries) if e), GENESIS)
    if expect_head and expect_head != head:
        problems.append(f"manifest head is {head}, expected {expect_head} (entries removed or rewritten?)")
    return Verification(len(entries), len(files), head, tuple(problems), tuple(leftovers), tuple(unowned))


def _read_chain(lake: Lake) -> tuple[list[dict[str, Any]], list[str]]:
    """Entries in order ({} for one that cannot be read) and every break in the chain."""
    entries, problems, prev = [], [], GENESIS
    for number, key in enumerate(entry_keys(lake.store), start=1):
        try:
            entry = parse_entry(key, lake.store.read_bytes(key))
        except TamperError as exc:
            entries.append({})
            problems.append(f"{key}: {exc.message}")
            prev = None
            continue
        entries.append(entry)
        if key != entry_key(number):
            problems.append(f"{key}: unexpected manifest file")
        if entry.get("seq") != number:
            problems.append(f"{key}: holds entry seq {entry.get('seq')}, expected {number} (removed or reordered)")
        if prev is not None and entry.get("prev_hash") != prev:
            problems.append(f"{key}: prev_hash does not match the entry before it (removed, reordered or edited)")
        if entry.get("hash") != entry_hash(entry):
            problems.append(f"{key}: entry was edited after it was written (hash mismatch)")
        prev = entry.get("hash", "")
    return entries, problems


def _check_file(lake: Lake, key: str, out: dict[str, Any]) -> list[str]:
    if not lake.store.is_file(key):
        return [f"{key}: listed in manifest entry {out['entry']} but missing (removed after the fact)"]
    actual = lake.store.sha256(key)
    if actual != out["sha256"]:
        return [f"{key}: content changed (manifest entry {out['entry']} has sha256 {out['sha256'][:16]}…, "
                f"file has {actual[:16]}…)"]
    return []


def _account(
    lake: Lake, entries: list[dict[str, Any]], files: dict[str, Any],
) -> tuple[list[str], list[str], list[str]]:
    """Sort every file the manifest does not list into tampering, leftovers and unowned files."""
    folders = {*INGEST_FOLDERS.values(), *(table_folder(o["table"]) for e in entries for o in e.get("outputs", ()))}
    removed = {key: e["seq"] for e in entries for key in e.get("removes", ()) if "seq" in e}
    tampered, leftovers, unowned = [], [], []
    for key in lake.store.list():
        top = key.split("/", 1)[0]
        if key in files or (top in SERVICE_ENTRIES and top not in (MANIFEST_DIR, TMP_DIR)):
            continue
        seq = part_seq(key) if key.endswith(".parquet") else None
        if top == TMP_DIR:
            leftovers.append(f"{key}: staging of a writer that stopped before its commit; the next write removes it")
        elif top == MANIFEST_DIR:
            if not key.endswith(".json") or key.rsplit("/", 1)[-1].startswith("."):
                unowned.append(f"{key}: not a manifest entry; no table owns this file")
        elif seq is not None and seq > len(entries):
            leftovers.append(f"{key}: written for manifest entry {seq}, which was never committed (a writer "
                             f"stopped before its commit); the next write removes it")
        elif key in removed:
            leftovers.append(f"{key}: replaced by manifest entry {removed[key]} but not yet removed; "
                             f"the next write removes it")
        elif top in folders and key.endswith(".parquet") and "/" in key:
            tampered.append(f"{key}: file is not in the manifest (added after the fact?)")
        else:
            unowned.append(f"{key}: no table owns this file")
    return tampered, leftovers, unowned
