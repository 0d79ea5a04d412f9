"""Tiny builders for native JSON Lines inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson


def event(seq: int = 1, **fields: Any) -> dict[str, Any]:
    """A valid native event; override or add fields by keyword."""
    second = seq % 60 if isinstance(seq, int) else 0
    base = {
        "ts": f"2026-11-20T10:00:{second:02d}Z",
        "agent_id": "agent-a",
        "session_id": "s-1",
        "seq": seq,
        "event_type": "tool_call",
        "tool_name": "bash",
        "tool_call_id": f"c{second}",
        "tool_args": {"cmd": f"ls /srv/{second}"},
        "text": f"step {second}",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not DROP}


DROP = object()


def line(**fields: Any) -> bytes:
    """One native record as a JSON line (no newline)."""
    return orjson.dumps(event(**fields))


def write_lines(path: Path, lines: list[bytes | str], newline_at_end: bool = True) -> Path:
    """Write raw lines (bytes kept verbatim) to a file."""
    raw = b"\n".join(x if isinstance(x, bytes) else x.encode() for x in lines)
    path.write_bytes(raw + (b"\n" if newline_at_end else b""))
    return path
