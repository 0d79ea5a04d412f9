"""Real-shaped agent transcripts from file to session metrics: a Claude Code message's final usage counted
once, Claude Code's own side chains kept out of the spawn tree, a failed Codex command counted once as
a tool error however many records report it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from agentwatch.detectors.metrics.run import run_metrics
from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.lake import Lake
from tests.ingest.formats.claude_code.test_side_chains import (
    OLD_SESSION,
    SESSION,
    compaction_file,
    explore_file,
    warmup_file,
)
from tests.support.agent_records import (
    PROJECT,
    claude_block,
    claude_prompt,
    claude_result,
    claude_usage,
    codex_call,
    codex_exec_end,
    codex_line,
    codex_meta,
    codex_output,
    unified_exec_output,
    write_jsonl,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)
CODEX_SESSION = "019c8a4c-ed82-79a1-aa28-7738fc5ab61a"


def main_session(folder: Path) -> Path:
    """2.1.x main thread: one streamed message in three records (text, then two parallel Task spawns)
    whose usage is partial until the last, the spawns' results (one names its sub-agent), a last reply."""
    task = {"description": "Explore cart code", "subagent_type": "Explore",
            "prompt": "Find where the cart total is rounded."}
    result_of_task = {"status": "completed", "prompt": task["prompt"], "agentId": "a2898e3",
                      "content": [{"type": "text", "text": "cart.py:42 rounds with round(x, 1)."}],
                      "totalDurationMs": 40843, "totalTokens": 37969, "totalToolUseCount": 3}
    return write_jsonl(folder / PROJECT / f"{SESSION}.jsonl", [
        {"type": "file-history-snapshot", "messageId": "m-0", "isSnapshotUpdate": False,
         "snapshot": {"messageId": "m-0", "trackedFileBackups": {}, "timestamp": "2026-02-12T16:02:25.000Z"}},
        claude_prompt(SESSION, "u-1", None, "2026-02-12T16:02:25.284Z", "The cart total is off by a cent. Fix it."),
        claude_block(SESSION, "a-1", "u-1", "2026-02-12T16:02:27.718Z", "msg_01A",
                     {"type": "text", "text": "I'll look at the cart code first."}, claude_usage(3)),
        claude_block(SESSION, "a-2", "a-1", "2026-02-12T16:02:29.111Z", "msg_01A",
                     {"type": "tool_use", "id": "toolu_01T1", "name": "Task", "input": task}, claude_usage(172)),
        claude_block(SESSION, "a-3", "a-2", "2026-02-12T16:02:29.673Z", "msg_01A",
                     {"type": "tool_use", "id": "toolu_01T2", "name": "Task",
                      "input": {**task, "prompt": "List the tests of the cart."}}, claude_usage(172)),
        claude_result(SESSION, "u-2", "a-3", "2026-02-12T16:03:10.312Z", "toolu_01T1",
                      "cart.py:42 rounds with round(x, 1).", toolUseResult=result_of_task),
        claude_result(SESSION, "u-3", "u-2", "2026-02-12T16:03:12.001Z", "toolu_01T2", "tests/test_cart.py"),
        claude_block(SESSION, "a-4", "u-3", "2026-02-12T16:03:15.500Z", "msg_01B",
                     {"type": "text", "text": "Found it: cart.py rounds to one decimal."},
                     claude_usage(41, fresh=5, created=200, read=16205)),
    ])


def codex_rollout(folder: Path) -> Path:
    """0.104-shaped rollout written with extended history: each exec_command's end is kept beside its
    output item; one command fails, one succeeds; a last call's output alone says it failed."""
    ts = "2026-02-23T11:40:{:02d}.000Z".format
    return write_jsonl(folder / "2026/02/23" / f"rollout-2026-02-23T12-40-23-{CODEX_SESSION}.jsonl", [
        codex_meta(CODEX_SESSION, ts(29), "0.104.0"),
        codex_line(ts(33), "event_msg", {"type": "token_count", "info": None, "rate_limits": None}),
        codex_call(ts(42), "exec_command", "call_1", {"cmd": "pytest -q tests/test_cart.py", "workdir": "/srv/shop"}),
        codex_exec_end(ts(43), "call_1", "pytest -q tests/test_cart.py", "1 failed in 0.21s\n", 1, "failed"),
        codex_output(ts(43), "call_1", {"content": unified_exec_output("1 failed in 0.21s\n", 1), "success": True}),
        codex_call(ts(44), "exec_command", "call_2", {"cmd": "git status --short"}),
        codex_exec_end(ts(45), "call_2", "git status --short", " M cart.py\n", 0, "completed"),
        codex_output(ts(45), "call_2", unified_exec_output(" M cart.py\n", 0)),
        codex_call(ts(46), "shell_command", "call_3", {"command": "pnpm test"}),
        codex_output(ts(47), "call_3", "Exit code: 127\nWall time: 0.1 seconds\nOutput:\npnpm: not found\n"),
    ])


@pytest.fixture(scope="module")
def metrics_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    logs, lake = tmp_path_factory.mktemp("logs"), tmp_path_factory.mktemp("lake") / "lake"
    claude = [main_session(logs), explore_file(logs), compaction_file(logs), warmup_file(logs)]
    ingest_paths(lake, claude, fmt="claude_code", now=NOW)
    ingest_paths(lake, [codex_rollout(logs)], fmt="codex", now=NOW)
    run_metrics(lake, {})
    return lake


def session_rows(lake: Path, columns: str) -> dict[str, tuple]:
    got = Lake(lake).connect().execute(f"select session_id, {columns} from sessions").fetchall()
    return {row[0]: row[1:] for row in got}


def test_a_messages_final_usage_counts_once(metrics_lake: Path) -> None:
    got = session_rows(metrics_lake, "sum_input_tokens, sum_output_tokens")
    # msg_01A: 3 + 1331 + 14874 in, 172 out (its first record said 3); msg_01B: 5 + 200 + 16205 in, 41 out
    assert got[SESSION] == (16208 + 16410, 172 + 41)


def test_side_chains_are_marked_and_no_sub_agents(metrics_lake: Path) -> None:
    got = session_rows(metrics_lake, "parent_session_id, is_housekeeping, count_spawned, count_child_sessions")
    assert got == {
        SESSION: (None, False, 2, 1),  # two Task spawns; one child seen, the compaction chain is none
        f"{SESSION}/agent-a2898e3": (SESSION, False, 0, 0),
        f"{SESSION}/agent-acompact-e1f845": (SESSION, True, 0, 0),
        f"{OLD_SESSION}/agent-b1f5d80e": (OLD_SESSION, True, 0, 0),  # the reply too: the session is marked
        CODEX_SESSION: (None, False, 0, 0),
    }
    assert session_rows(metrics_lake, "spawn_depth")[f"{SESSION}/agent-acompact-e1f845"] == (0,)


def test_a_failed_codex_command_is_one_tool_error(metrics_lake: Path) -> None:
    got = session_rows(metrics_lake, "count_tool_calls, count_tool_results, count_tool_errors")
    assert got[CODEX_SESSION] == (3, 3, 2)
    steps = Lake(metrics_lake).connect().execute(
        "select tool_call_id, status from steps where session_id = ? and event_type = 'tool_result' order by seq",
        [CODEX_SESSION]).fetchall()
    assert steps == [("call_1", "error"), ("call_2", "ok"), ("call_3", "error")]


def test_a_repeat_alone_stands_for_its_result(tmp_path: Path) -> None:
    # a rollout cut after the command's end, before its output item: the end is the call's only result
    path = write_jsonl(tmp_path / f"rollout-2026-02-23T12-40-23-{CODEX_SESSION}.jsonl", [
        codex_meta(CODEX_SESSION, "2026-02-23T11:40:29.000Z", "0.104.0"),
        codex_call("2026-02-23T11:40:42.000Z", "exec_command", "call_1", {"cmd": "make"}),
        codex_exec_end("2026-02-23T11:40:43.000Z", "call_1", "make", "make: *** [all] Error 2\n", 2, "failed"),
    ])
    lake = tmp_path / "lake"
    ingest_paths(lake, [path], fmt="codex", now=NOW)
    run_metrics(lake, {})
    assert session_rows(lake, "count_tool_results, count_tool_errors")[CODEX_SESSION] == (1, 1)

