"""One decoder module per source format, found through `REGISTRY`.

A format module defines `FORMAT = Format(...)`:

- `sniff(first_record: bytes) -> bool` recognizes the format from a file's first non-blank line
  (`--format auto`);
- `decode(record, where) -> list[DecodedEvent]` turns one parsed JSON record into zero or more
  typed, frozen events (`ingest.records.DecodedEvent`: a field per canonical column, so a misspelt
  column is an error). It is pure: no I/O, no clock. It raises `RecordError(reason)` for a record it
  cannot map (quarantined) and `SkipRecord(reason)` for one that carries no event by design (counted
  per reason in the manifest). What has no column goes in the event's `attrs` dict;
  `ingest.records.normalize_event` validates and completes every event.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentwatch.errors import ConfigError
from agentwatch.ingest.records import DecodedEvent

# name -> module; imported on first use so one broken format never blocks the others.
REGISTRY: dict[str, str] = {
    "native": "agentwatch.ingest.formats.native.decoder",
    "otlp_json": "agentwatch.ingest.formats.otlp.traces",
    "otlp_logs": "agentwatch.ingest.formats.otlp.logs",
    "otlp_metrics": "agentwatch.ingest.formats.otlp.metrics",
    "openinference": "agentwatch.ingest.formats.otlp.openinference",
    "claude_code": "agentwatch.ingest.formats.claude_code.decoder",
    "codex": "agentwatch.ingest.formats.codex.decoder",
}
# Order in which `auto` tries formats: the most specific shapes first, native (the loosest) last.
SNIFF_ORDER = ("otlp_json", "otlp_logs", "otlp_metrics", "openinference", "claude_code", "codex", "native")


class SkipRecord(Exception):
    """A record that carries no event by design; its message is the counted reason."""


@dataclass(frozen=True)
class Format:
    """How to recognize and decode one source format."""

    name: str
    sniff: Callable[[bytes], bool]
    decode: Callable[[Any, Any], list[DecodedEvent]]


def get_format(name: str) -> Format:
    """The format registered under `name`."""
    if name not in REGISTRY:
        raise ConfigError(f"unknown format {name!r}; known: auto, {', '.join(REGISTRY)}", "--format")
    return importlib.import_module(REGISTRY[name]).FORMAT


def detect_format(first_record: bytes) -> Format:
    """The first registered format whose sniffer accepts this record (native when none does)."""
    for name in SNIFF_ORDER:
        try:
            fmt = get_format(name)
        except ModuleNotFoundError:
            continue
        if fmt.sniff(first_record):
            return fmt
    return get_format("native")
