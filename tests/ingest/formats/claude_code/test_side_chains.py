"""Claude Code's own side chains are housekeeping, kept and marked: the 2.1.x compaction file
(`subagents/agent-acompact-*.jsonl`) and the 2.0.x start-up warmup (`agent-*.jsonl` beside the session,
prompt `Warmup`). A real Task sub-agent is not marked, and a human who types "Warmup" is still a human."""

from __future__ import annotations

from pathlib import Path

import orjson

from agentwatch.ingest.formats.claude_code.decoder import FORMAT
from tests.ingest.formats.agent_log_files import decode_file, decode_one
from tests.support.agent_records import (
    PROJECT,
    claude_block,
    claude_prompt,
    claude_usage,
    write_jsonl,
)

SESSION = "4d5611e5-241a-462a-8d15-5122611a9569"
OLD_SESSION = "7864f562-717b-4d70-a1cb-b588f7826a1a"
REMINDER = "<system-reminder>\nPostToolUse:Edit hook additional context: run the linter\n</system-reminder>"
COMPACT_PROMPT = ("Your task is to create a detailed summary of the conversation so far, paying close attention "
                  "to the user's explicit requests and your previous actions.")


def compaction_file(folder: Path) -> Path:
    """2.1.39: hook reminders (isMeta), the compaction prompt, the summary; every record `agentId: acompact-*`."""
    side = {"isSidechain": True, "agentId": "acompact-e1f845", "slug": "steady-drifting-lark"}
    return write_jsonl(folder / PROJECT / SESSION / "subagents" / "agent-acompact-e1f845.jsonl", [
        claude_prompt(SESSION, "c-1", None, "2026-02-12T20:24:43.254Z", REMINDER, isMeta=True, **side),
        claude_prompt(SESSION, "c-2", "c-1", "2026-02-12T20:29:04.537Z", COMPACT_PROMPT, **side),
        claude_block(SESSION, "c-3", "c-2", "2026-02-12T20:30:28.082Z", "msg_01Cmp",
                     {"type": "text", "text": "<analysis>\nThe user asked to fix the cart total."},
                     claude_usage(812, read=0), **side),
    ])


def warmup_file(folder: Path) -> Path:
    """2.0.28: the file beside the session, named by the agent id; the prompt is the word `Warmup`."""
    side = {"isSidechain": True, "agentId": "b1f5d80e", "version": "2.0.28"}
    return write_jsonl(folder / PROJECT / "agent-b1f5d80e.jsonl", [
        claude_prompt(OLD_SESSION, "w-1", None, "2025-10-29T16:03:05.129Z", "Warmup", **side),
        claude_block(OLD_SESSION, "w-2", "w-1", "2025-10-29T16:03:08.981Z", "msg_018gY",
                     {"type": "text", "text": "I'm ready to help you search through your codebase!"},
                     claude_usage(87, created=1374, read=0), **side),
    ])


def explore_file(folder: Path) -> Path:
    """2.1.39: a real Task (Explore) sub-agent: the delegated prompt opens it."""
    side = {"isSidechain": True, "agentId": "a2898e3", "slug": "steady-drifting-lark"}
    return write_jsonl(folder / PROJECT / SESSION / "subagents" / "agent-a2898e3.jsonl", [
        claude_prompt(SESSION, "x-1", None, "2026-02-12T16:02:48.100Z", "Find where the cart total is rounded.",
                      **side),
        claude_block(SESSION, "x-2", "x-1", "2026-02-12T16:02:51.300Z", "msg_016xc",
                     {"type": "tool_use", "id": "toolu_01Rd", "name": "Read",
                      "input": {"file_path": "/home/dev/shop/cart.py"}, "caller": {"type": "direct"}},
                     claude_usage(3, created=13522, read=0), **side),
    ])


def marks(path: Path) -> list[tuple[str, str | None, str, str | None]]:
    got = decode_file(path, FORMAT)
    assert got.refused == {}
    return [(r["event_type"], orjson.loads(r["attrs"]).get("housekeeping"), r["session_id"], r["parent_session_id"])
            for r in got.rows]


def test_compaction_chain_is_marked_and_its_prompt_is_claude_codes(tmp_path: Path) -> None:
    child = f"{SESSION}/agent-acompact-e1f845"
    assert marks(compaction_file(tmp_path)) == [
        ("system_prompt", "compaction", child, SESSION),
        ("system_prompt", "compaction", child, SESSION),  # the compaction prompt: no human typed it
        ("llm_response", "compaction", child, SESSION),
    ]


def test_warmup_prompt_is_marked_the_reply_is_left_to_the_session(tmp_path: Path) -> None:
    child = f"{OLD_SESSION}/agent-b1f5d80e"
    assert marks(warmup_file(tmp_path)) == [
        ("system_prompt", "warmup", child, OLD_SESSION),
        # only the prompt says it is a warmup; the metrics mark the whole child session (see its test)
        ("llm_response", None, child, OLD_SESSION),
    ]


def test_a_real_sub_agent_is_not_housekeeping(tmp_path: Path) -> None:
    child = f"{SESSION}/agent-a2898e3"
    assert marks(explore_file(tmp_path)) == [
        ("user_prompt", None, child, SESSION),
        ("tool_call", None, child, SESSION),
    ]


def test_a_compaction_file_without_agent_ids_is_known_by_its_name() -> None:
    record = claude_prompt(SESSION, "c-9", None, "2026-02-12T20:29:04.537Z", COMPACT_PROMPT, isSidechain=True)
    (row,) = decode_one(FORMAT, record, f"/p/{PROJECT}/{SESSION}/subagents/agent-acompact-77aa01.jsonl")
    assert (row["event_type"], orjson.loads(row["attrs"])["housekeeping"]) == ("system_prompt", "compaction")


def test_a_human_typing_warmup_in_the_main_thread_is_a_human() -> None:
    for content in ("Warmup", [{"type": "text", "text": "Warmup"}]):
        record = claude_prompt(OLD_SESSION, "u-1", None, "2025-10-29T16:03:05.129Z", "")
        record["message"]["content"] = content
        (row,) = decode_one(FORMAT, record, f"/p/{PROJECT}/{OLD_SESSION}.jsonl")
        assert (row["event_type"], "housekeeping" in orjson.loads(row["attrs"])) == ("user_prompt", False)
