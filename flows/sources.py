"""Where a run finds its input: explicit paths, or the configured sources (folders, files, globs) plus
the receiver's spool. Plain functions: they list files and never read their content.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentwatch.errors import ConfigError
from agentwatch.ingest.pipeline import expand_inputs
from agentwatch.ingest.receiver.spool import spooled_files

GLOB_CHARS = frozenset("*?[")
RECORDED = ("ingested", "skipped_duplicate_content")  # statuses a manifest input is recorded with


@dataclass(frozen=True)
class Discovery:
    """The files one run will ingest."""

    files: tuple[Path, ...]  # everything to ingest, spool files included
    spooled: tuple[Path, ...]  # the spool files among them (deleted once their events are committed)
    known: int = 0  # files left out because the manifest already lists them unchanged (guard only)


def parse_sources(value: Any, where: str = "sources") -> tuple[str, ...]:
    """The `sources` setting as a tuple of folders/files/globs (TOML list or os.pathsep-separated string)."""
    items = value.split(os.pathsep) if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ConfigError(f"`sources` must be a list of folders, files or globs, got {value!r}", where)
    return tuple(i.strip() for i in items if i.strip())


def discover_files(
    paths: Iterable[str | Path], sources: Iterable[str], spool: Path, *, known: Mapping[Path, int] | None = None
) -> Discovery:
    """Files named by PATHs; with none, every input under the sources and in the spool.

    With `known` (resolved path -> size already recorded in the manifest), files listed there at the same
    size are left out: the guard's cheap test for "new", which never hashes what it has seen.
    """
    named = [Path(p) for p in paths]
    spooled = [] if named else [p.resolve() for p in spooled_files(spool)]
    found = _unique([p.resolve() for p in expand_inputs(named)] if named else _expand_sources(sources))
    in_spool = set(spooled)
    found = [p for p in found if p not in in_spool] + spooled  # a source folder may hold the spool
    if known is None:
        return Discovery(tuple(found), tuple(spooled))
    fresh = [p for p in found if known.get(p) != p.stat().st_size]
    return Discovery(tuple(fresh), tuple(p for p in fresh if p in in_spool), len(found) - len(fresh))


def recorded_inputs(entries: Iterable[Mapping[str, Any]]) -> dict[Path, int]:
    """Resolved path -> size of every input file the manifest records as stored."""
    return {
        Path(rec["path"]).resolve(): int(rec.get("bytes", -1))
        for entry in entries if entry.get("kind") == "ingest"
        for rec in entry.get("inputs", ()) if rec.get("status") in RECORDED
    }


def _expand_sources(sources: Iterable[str]) -> list[Path]:
    found: list[Path] = []
    for source in sources:
        if GLOB_CHARS & set(source):
            matches = sorted(Path(m) for m in glob.glob(os.path.expanduser(source), recursive=True))
            found.extend(expand_inputs(m for m in matches if m.is_file() or m.is_dir()))
            continue
        path = Path(source).expanduser()
        if not path.exists():
            raise ConfigError("source folder or file does not exist", f"sources: {source}")
        found.extend(expand_inputs([path]))
    return [p.resolve() for p in found]


def _unique(paths: list[Path]) -> list[Path]:
    return list(dict.fromkeys(paths))
