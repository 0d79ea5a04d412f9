"""Claude Code transcripts decode to exact events: prompts vs tool results, sidechains as child sessions,
stable ids, tokens that add up once per model response, and sniffers that keep formats apart."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import orjson
import pytest

from agentwatch.ingest.formats.claude_code.decoder import FORMAT
from agentwatch.ingest.formats.codex.decoder import FORMAT as CODEX
from agentwatch.ingest.formats.native.decoder import sniff_native
from tests.ingest.formats.agent_log_files import decode_file, decode_one, first_line, key_fields
from tests.support.paths import FIXTURES

PROJECT = FIXTURES / "claude_code" / "-home-dev-shop"
SESSION = "7f1c2a9e-3b4d-4c5e-8f60-1a2b3c4d5e6f"
OLD_SESSION = "0b6e4d2c-9a8f-4e7d-b6c5-a4b3c2d1e0f9"
MAIN = PROJECT / f"{SESSION}.jsonl"
SUBAGENT = PROJECT / SESSION / "subagents" / "agent-a3f9c2d1.jsonl"
OLD = PROJECT / f"{OLD_SESSION}.jsonl"
CHILD = f"{SESSION}/agent-a3f9c2d1"


def test_modern_session_decodes_to_exact_events() -> None:
    got = decode_file(MAIN, FORMAT)
    assert got.refused == {}
    assert got.skipped == Counter({"claude code file-history-snapshot record": 1,
                                   "claude code queue-operation record": 1, "claude code last-prompt record": 1})
    assert list(zip(got.lines, map(key_fields, got.rows), strict=True)) == [
        (2, ("system_prompt", None, None, None, None, None)),  # isMeta caveat: injected, not typed
        (3, ("user_prompt", None, None, None, None, None)),
        (4, ("reasoning", None, None, None, 2510, 120)),
        (5, ("tool_call", "Bash", "toolu_01Bash", None, 2510, 120)),  # same response, usage repeated
        (6, ("tool_result", None, "toolu_01Bash", "ok", None, None)),
        (7, ("agent_spawn", "Task", "toolu_01Task", None, 2806, 90)),
        (8, ("tool_result", None, "toolu_01Task", "ok", None, None)),
        (9, ("llm_response", None, None, None, 3004, 150)),
        (9, ("tool_call", "Edit", "toolu_01Edit", None, None, None)),  # tokens on a record's first event
        (10, ("tool_result", None, "toolu_01Edit", "error", None, None)),  # the human rejected the edit
        (11, ("error", None, None, "error", None, None)),
        (12, ("llm_response", None, None, None, 3203, 20)),
    ]
    assert {row["session_id"] for row in got.rows} == {SESSION}
    assert {row["parent_session_id"] for row in got.rows} == {None}
    assert {row["agent_id"] for row in got.rows} == {"claude-code:-home-dev-shop"}


def test_text_and_arguments_are_kept_exactly() -> None:
    rows = {row["event_id"]: row for row in decode_file(MAIN, FORMAT).rows}
    assert rows["u-0002:0"]["text"] == "The checkout test fails on main. Fix it and run the suite."
    assert rows["a-0003:0"]["text"] == "Run the failing test first to see the assertion."
    assert orjson.loads(rows["a-0003:0"]["attrs"])["block"] == {"type": "thinking", "signature": "EqQBCkYIBxgCKkB"}
    assert orjson.loads(rows["a-0004:0"]["tool_args"]) == {
        "command": "pytest tests/test_checkout.py -x -q", "description": "Run the failing test"}
    assert rows["u-0005:0"]["text"] == "F\nFAILED tests/test_checkout.py::test_total - assert 10.0 == 9.99"
    assert rows["a-0006:0"]["text"] == "Find where the checkout total is rounded and report the function."
    assert rows["s-0010:0"]["text"] == "API Error: 529 overloaded"
    assert rows["a-0011:0"]["model"] == "claude-sonnet-4-5-20250929"
    assert rows["a-0011:0"]["ts"] == datetime(2025, 11, 19, 22, 52, 20, tzinfo=UTC)


def test_every_tool_result_answers_an_earlier_call() -> None:
    for path in (MAIN, SUBAGENT, OLD):
        rows = decode_file(path, FORMAT).rows
        calls = {r["tool_call_id"]: r["seq"] for r in rows if r["event_type"] in ("tool_call", "agent_spawn")}
        results = [r for r in rows if r["event_type"] == "tool_result"]
        assert results
        for result in results:
            assert calls[result["tool_call_id"]] < result["seq"]


def test_subagent_file_is_a_child_session_of_its_spawner() -> None:
    rows = decode_file(SUBAGENT, FORMAT).rows
    assert [key_fields(r) for r in rows] == [
        ("user_prompt", None, None, None, None, None),  # the delegated prompt opens the child session
        ("tool_call", "Grep", "toolu_01Grep", None, 1208, 40),
        ("tool_result", None, "toolu_01Grep", "ok", None, None),
        ("llm_response", None, None, None, 1305, 60),
    ]
    assert {(r["session_id"], r["parent_session_id"], r["agent_id"]) for r in rows} == {
        (CHILD, SESSION, "claude-code:-home-dev-shop")}
    spawner = {r["event_id"]: r for r in decode_file(MAIN, FORMAT).rows}["u-0007:0"]
    assert orjson.loads(spawner["attrs"])["child_session_id"] == CHILD


def test_old_transcript_keeps_inline_sidechain_apart() -> None:
    got = decode_file(OLD, FORMAT)
    assert got.skipped == Counter({"claude code summary record": 1})
    assert [(line, r["event_type"], r["session_id"], r["parent_session_id"]) for line, r in
            zip(got.lines, got.rows, strict=True)] == [
        (2, "user_prompt", OLD_SESSION, None),
        (2, "user_prompt", OLD_SESSION, None),  # the attached image: a prompt block without text
        (3, "llm_response", OLD_SESSION, None),
        (3, "agent_spawn", OLD_SESSION, None),
        (4, "user_prompt", f"{OLD_SESSION}/sidechain", OLD_SESSION),
        (5, "llm_response", f"{OLD_SESSION}/sidechain", OLD_SESSION),
        (6, "tool_result", OLD_SESSION, None),
        (7, "llm_response", OLD_SESSION, None),
    ]
    image = orjson.loads(got.rows[1]["attrs"])["block"]
    assert (got.rows[1]["text"], image["source"]["media_type"]) == (None, "image/png")


def test_ids_are_the_sources_own_and_stable() -> None:
    first = [decode_file(path, FORMAT).rows for path in (MAIN, SUBAGENT, OLD)]
    again = [decode_file(path, FORMAT).rows for path in (MAIN, SUBAGENT, OLD)]
    ids = [r["event_id"] for rows in first for r in rows]
    assert ids == [r["event_id"] for rows in again for r in rows]
    assert len(ids) == len(set(ids)) == 24
    main = first[0]
    assert [r["event_id"] for r in main[7:9]] == ["a-0008:0", "a-0008:1"]
    assert [(r["span_id"], r["parent_span_id"]) for r in main[:3]] == [
        ("u-0001", None), ("u-0002", "u-0001"), ("a-0003", "u-0002")]


def test_seq_is_timestamp_microseconds_then_block() -> None:
    rows = decode_file(MAIN, FORMAT).rows
    assert rows[0]["seq"] == 1_763_592_601_100_000 * 1000
    assert [r["seq"] - rows[7]["seq"] for r in rows[7:9]] == [0, 1]
    assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)


def test_tokens_count_whole_prompt_and_add_up_per_response() -> None:
    rows = decode_file(MAIN, FORMAT).rows
    assert rows[2]["input_tokens"] == 10 + 500 + 2000  # input + cache creation + cache read
    per_message: dict[str, tuple[int, int]] = {}
    for row in rows:
        if row["input_tokens"] is not None:
            message = orjson.loads(row["attrs"])["message"]["id"]
            old = per_message.get(message, (0, 0))
            per_message[message] = (max(old[0], row["input_tokens"]), max(old[1], row["output_tokens"]))
    assert per_message == {"msg_01A": (2510, 120), "msg_01B": (2806, 90), "msg_01C": (3004, 150),
                           "msg_01D": (3203, 20)}


def test_every_event_validates_without_adjustment() -> None:
    for path in (MAIN, SUBAGENT, OLD):
        for row in decode_file(path, FORMAT).rows:
            assert row["flags"] == []
            assert row["source_format"] == "claude_code"
            assert row["ts"].tzinfo is UTC


def test_sniffer_knows_claude_code_and_nothing_else() -> None:
    for path in (MAIN, SUBAGENT, OLD):
        line = first_line(path)
        assert (FORMAT.sniff(line), CODEX.sniff(line), sniff_native(line)) == (True, False, False)
    for path in sorted(FIXTURES.rglob("*.jsonl")):  # every other format's fixtures
        if path.relative_to(FIXTURES).parts[0] != "claude_code":
            assert FORMAT.sniff(first_line(path)) is False, path
    native = b'{"ts": "2026-11-20T10:00:00Z", "session_id": "s", "event_type": "user_prompt", "agent_id": "a"}'
    assert (FORMAT.sniff(native), FORMAT.sniff(b"not json"), FORMAT.sniff(b"[1]")) == (False, False, False)


def record(kind: str = "assistant", blocks: object = "hi", **fields: object) -> dict:
    base = {"type": kind, "uuid": "r-1", "parentUuid": None, "sessionId": "s-1", "cwd": "/work/repo",
            "timestamp": "2025-11-19T22:53:34.908Z", "message": {"role": kind, "content": blocks}}
    base.update(fields)
    return base


def decode(rec: dict, source_file: str = "/h/.claude/projects/-work-repo/s-1.jsonl") -> list[dict]:
    return decode_one(FORMAT, rec, source_file)


@pytest.mark.parametrize(
    ("rec", "expected"),
    [
        (record("user", "<system-reminder>cwd changed</system-reminder>"), "system_prompt"),
        (record("user", "Summary of the earlier conversation", isCompactSummary=True), "system_prompt"),
        (record("user", [{"type": "text", "text": "[Request interrupted by user]"}]), "user_prompt"),
        # a command the human ran with `!` (1.0.x on): what they typed is theirs, its output is not
        (record("user", "<bash-input>uv run pytest -q</bash-input>"), "user_prompt"),
        (record("user", "<bash-stdout>3 passed in 0.41s</bash-stdout><bash-stderr></bash-stderr>"), "system_prompt"),
        (record("user", "<command-name>/model</command-name>\n<command-message>model</command-message>"),
         "user_prompt"),
        (record("user", "<local-command-stdout>Set model to opus</local-command-stdout>"), "system_prompt"),
        (record(blocks=[{"type": "text", "text": "API Error: 401"}], isApiErrorMessage=True), "error"),
        (record(blocks=[{"type": "redacted_thinking", "data": "EmwKAhgB"}]), "reasoning"),
        (record(blocks=[{"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search",
                          "input": {"query": "x"}}]), "tool_call"),
        (record(blocks=[{"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []}]),
         "tool_result"),
        (record("system", None, content="Conversation compacted", subtype="compact_boundary"), "system_prompt"),
    ],
)
def test_record_variants_map_to_their_event_type(rec: dict, expected: str) -> None:
    assert [row["event_type"] for row in decode(rec)] == [expected]


def test_unknown_block_is_kept_as_unknown_with_its_name() -> None:
    (row,) = decode(record(blocks=[{"type": "container_upload", "file_id": "f1"}]))
    assert (row["event_type"], row["flags"]) == ("unknown", ["unknown_event_type"])
    attrs = orjson.loads(row["attrs"])
    assert (attrs["source_event_type"], attrs["block"]) == ("container_upload", {"type": "container_upload",
                                                                                 "file_id": "f1"})


@pytest.mark.parametrize(
    ("source_file", "cwd", "agent_id"),
    [
        ("/h/.claude/projects/-srv-api/s.jsonl", "/srv/api", "claude-code:-srv-api"),
        ("/h/.claude/projects/-srv-api/s/subagents/agent-1.jsonl", "/srv/api", "claude-code:-srv-api"),
        ("s.jsonl", "/srv/api", "claude-code:api"),
        ("s.jsonl", "e:\\Workspace\\shop", "claude-code:shop"),
        ("s.jsonl", None, "claude-code:unknown"),
    ],
)
def test_agent_id_names_the_project(source_file: str, cwd: str | None, agent_id: str) -> None:
    (row,) = decode(record("user", "go", cwd=cwd), source_file)
    assert row["agent_id"] == agent_id


def test_sidechain_in_an_agent_file_without_agent_id_uses_the_file_name() -> None:
    (row,) = decode(record("user", "go", isSidechain=True), "/p/-x/s-1/subagents/agent-77aa.jsonl")
    assert (row["session_id"], row["parent_session_id"]) == ("s-1/agent-77aa", "s-1")

