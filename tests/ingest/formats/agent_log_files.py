"""Decode agent-CLI log fixtures line by line, the way ingest does, without the lake."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentwatch.errors import RecordError
from agentwatch.ingest.formats import Format, SkipRecord
from agentwatch.ingest.records import Location, normalize_event

NOW = datetime(2026, 11, 25, tzinfo=UTC)


@dataclass
class Decoded:
    """Per line: the canonical rows it became, or why it was skipped or refused."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the line each row came from
    skipped: Counter = field(default_factory=Counter)
    refused: dict[int, str] = field(default_factory=dict)


def decode_file(path: Path, fmt: Format) -> Decoded:
    """Decode and normalize every line of a fixture file."""
    out = Decoded()
    offset = 0
    for line_no, raw in enumerate(path.read_bytes().splitlines(keepends=True), start=1):
        where = Location(fmt.name, str(path), offset, line_no)
        offset += len(raw)
        try:
            events = fmt.decode(json.loads(raw), where)
            rows = [normalize_event(e, where, now=NOW, content=raw, index=i) for i, e in enumerate(events)]
        except SkipRecord as skip:
            out.skipped[str(skip)] += 1
            continue
        except RecordError as exc:
            out.refused[line_no] = exc.message
            continue
        out.rows.extend(rows)
        out.lines.extend([line_no] * len(rows))
    return out


def decode_one(fmt: Format, record: Any, source_file: str, line_no: int = 1) -> list[dict[str, Any]]:
    """Decode and normalize a single record as if read at `line_no` of `source_file`."""
    where = Location(fmt.name, source_file, 0, line_no)
    return [normalize_event(e, where, now=NOW, index=i) for i, e in enumerate(fmt.decode(record, where))]


def first_line(path: Path) -> bytes:
    """The first line of a file, as a sniffer sees it."""
    return path.read_bytes().splitlines()[0]


def key_fields(row: dict) -> tuple:
    """What golden tests compare per event: type, tool, call id, status, tokens."""
    return (row["event_type"], row["tool_name"], row["tool_call_id"], row["status"],
            row["input_tokens"], row["output_tokens"])
