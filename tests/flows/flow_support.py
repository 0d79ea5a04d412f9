"""Helpers for the flow tests: settings for a temporary lake, small native log files, lake counts."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import duckdb

from agentwatch.config import load_settings
from agentwatch.lake import Lake
from tests.support.native_lines import line, write_lines
from tests.support.paths import ROOT

SAMPLE = ROOT / "data" / "sample"


def flow_settings(lake: Path, *, sources: list[str] | None = None, inventory: str = "", **more: Any) -> dict:
    """Resolved settings for a run against `lake` (no config file, no environment overrides)."""
    settings = load_settings(None, {"lake": str(lake), "inventory": inventory})
    settings.update(sources=sources or [], **more)
    return settings


def session_file(path: Path, session_id: str, steps: int = 3, agent_id: str = "agent-a") -> Path:
    """A native JSONL file of one session with `steps` tool calls."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_lines(path, [line(seq=i, session_id=session_id, agent_id=agent_id) for i in range(1, steps + 1)])


def force_push_file(path: Path, session_id: str, agent_id: str = "cicd-assistant") -> Path:
    """A session whose agent force-pushes to main: a restricted action (rule force-push-protected-branch)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    common = {"agent_id": agent_id, "session_id": session_id}
    return write_lines(path, [
        line(seq=1, event_type="user_prompt", text="Ship the fix", tool_name=None, tool_call_id=None, tool_args=None,
             actor="dev@example.com", **common),
        line(seq=2, tool_name="git_push", tool_call_id="p1", tool_args={"repo": "acme/app", "branch": "main",
                                                                        "force": True}, text=None, **common),
        line(seq=3, event_type="tool_result", tool_name="git_push", tool_call_id="p1", tool_args=None,
             text="main -> main (forced update)", **common),
    ])


def corrupt_gz(path: Path) -> Path:
    """A .gz file cut in half: unreadable as a whole."""
    data = gzip.compress(b"".join(line(seq=i, session_id="gz") + b"\n" for i in range(1, 200)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data[: len(data) // 2])
    return path


def sessions_in(lake: Path) -> set[str]:
    """Session ids of the lake's `sessions` table (what metrics built)."""
    if "sessions" not in Lake(lake).tables():
        return set()
    return {row[0] for row in Lake(lake).connect().execute("select session_id from sessions").fetchall()}


def lake_state(lake: Path) -> tuple[int, list[tuple]]:
    """Manifest length and the content of events and sessions, to compare two runs."""
    con: duckdb.DuckDBPyConnection = Lake(lake).connect()
    events = con.execute("select event_id, session_id from events order by all").fetchall()
    sessions = con.execute("select agent_id, session_id, count_events from sessions order by all").fetchall()
    return len(Lake(lake).entries()), events + sessions
