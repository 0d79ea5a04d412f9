"""Codex rollouts (wrapped and bare) and `codex exec --json` streams decode to exact events: the human's
prompt apart from injected context, calls paired with outputs on call_id, exit codes as status, the
policy a turn ran under, tokens, sessions named by the file."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import orjson
import pytest

from agentwatch.ingest.formats.claude_code.decoder import FORMAT as CLAUDE
from agentwatch.ingest.formats.codex.decoder import FORMAT
from agentwatch.ingest.formats.native.decoder import sniff_native
from tests.ingest.formats.agent_log_files import decode_file, decode_one, first_line, key_fields
from tests.support.paths import FIXTURES

SESSIONS = FIXTURES / "codex" / "sessions"
PARENT = "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
CHILD = "019b2c3d-4e5f-7a6b-8c7d-9e0f1a2b3c4d"
LEGACY = "c3c4b301-27c8-4c70-b6e4-46b99fdf0236"
ROLLOUT = SESSIONS / "2025/10/29" / f"rollout-2025-10-29T09-15-02-{PARENT}.jsonl"
SUBAGENT = SESSIONS / "2026/03/04" / f"rollout-2026-03-04T10-00-00-{CHILD}.jsonl"
BARE = SESSIONS / "2025/08/18" / f"rollout-2025-08-18T01-16-13-{LEGACY}.jsonl"
EXEC = FIXTURES / "codex" / "exec" / "codex-exec-2025-11-02T14-30-00.jsonl"
ALL = (ROLLOUT, SUBAGENT, BARE, EXEC)


def test_rollout_decodes_to_exact_events() -> None:
    got = decode_file(ROLLOUT, FORMAT)
    assert got.refused == {}
    assert got.skipped == Counter({
        "codex event_msg user_message (repeats a response_item)": 1,
        "codex event_msg agent_reasoning (repeats a response_item)": 1,
        "codex event_msg agent_message (repeats a response_item)": 1,
        "codex event_msg token_count without usage": 1,
        "codex event_msg task_complete": 1,
        "codex compacted record": 1,
    })
    assert list(zip(got.lines, map(key_fields, got.rows), strict=True)) == [
        (1, ("system_prompt", None, None, None, None, None)),  # session_meta
        (2, ("system_prompt", None, None, None, None, None)),  # injected <environment_context>
        (3, ("user_prompt", None, None, None, None, None)),
        (5, ("system_prompt", None, None, None, None, None)),  # turn_context
        (7, ("reasoning", None, None, None, None, None)),
        (9, ("tool_call", "shell", "call_Qm1", None, None, None)),
        (10, ("tool_result", None, "call_Qm1", "ok", None, None)),  # metadata.exit_code 0
        (11, ("tool_call", "apply_patch", "call_Pt2", None, None, None)),
        (12, ("tool_result", None, "call_Pt2", "error", None, None)),  # metadata.exit_code 1
        (13, ("llm_response", None, None, None, 5120, 310)),  # token_count: last call's usage
        (14, ("llm_response", None, None, None, None, None)),
        (16, ("error", None, None, "error", None, None)),  # turn_aborted
        (19, ("error", None, None, "error", None, None)),
    ]
    assert {(r["session_id"], r["agent_id"], r["parent_session_id"]) for r in got.rows} == {
        (PARENT, "codex", None)}


def test_rollout_text_args_and_policy_are_exact() -> None:
    got = decode_file(ROLLOUT, FORMAT)
    rows = dict(zip(got.lines, got.rows, strict=True))
    assert rows[3]["text"] == "Rotate the staging DB password and update the deploy config."
    assert rows[5]["text"] == "turn context: approval_policy=on-request, sandbox_policy=workspace-write"
    assert rows[5]["model"] == "gpt-5-codex"
    policy = orjson.loads(rows[5]["attrs"])
    assert (policy["approval_policy"], policy["sandbox_policy"]["network_access"]) == ("on-request", False)
    assert rows[7]["text"] == "**Locating the password reference**"
    assert orjson.loads(rows[7]["attrs"])["encrypted_content"] == "gAAAAABpAlq0X1"
    assert orjson.loads(rows[9]["tool_args"]) == {
        "command": ["bash", "-lc", "grep -rn DB_PASSWORD deploy/"], "workdir": "/srv/app"}
    assert orjson.loads(rows[11]["tool_args"]).startswith("*** Begin Patch\n*** Update File: deploy/staging.env")
    usage = orjson.loads(rows[13]["attrs"])["info"]
    assert (usage["total_token_usage"]["total_tokens"], usage["last_token_usage"]["cached_input_tokens"]) == (
        9700, 4096)
    assert rows[16]["text"] == "turn aborted: interrupted"
    assert rows[1]["ts"] == datetime(2025, 10, 29, 9, 15, 2, 417000, tzinfo=UTC)


def test_subagent_rollout_names_its_parent_and_newer_items() -> None:
    got = decode_file(SUBAGENT, FORMAT)
    assert [key_fields(r) for r in got.rows] == [
        ("system_prompt", None, None, None, None, None),
        ("system_prompt", None, None, None, None, None),  # developer message
        ("system_prompt", None, None, None, None, None),
        ("tool_call", "local_shell", "call_Ls3", None, None, None),
        ("tool_result", None, "call_Ls3", "ok", None, None),  # "Exit code: 0" first line
        ("tool_call", "web_search", None, None, None, None),
        ("llm_response", None, None, None, 800, 50),
    ]
    meta, _, context = got.rows[:3]
    assert (meta["session_id"], meta["parent_session_id"], meta["text"]) == (
        CHILD, PARENT, "You are Codex, a coding agent.")
    assert context["text"] == "turn context: approval_policy=never, sandbox_policy=read-only"
    assert orjson.loads(got.rows[3]["tool_args"])["command"] == ["ls", "deploy"]


def test_bare_rollout_takes_time_from_the_file_name() -> None:
    got = decode_file(BARE, FORMAT)
    assert got.skipped == Counter({"codex rollout state marker": 2})
    assert [(line, *key_fields(r)[:3]) for line, r in zip(got.lines, got.rows, strict=True)] == [
        (1, "system_prompt", None, None),
        (3, "system_prompt", None, None),  # <user_instructions>
        (4, "system_prompt", None, None),  # <environment_context>
        (5, "user_prompt", None, None),
        (6, "reasoning", None, None),
        (7, "tool_call", "shell", "call_Lg1"),
        (8, "tool_result", None, "call_Lg1"),
        (10, "llm_response", None, None),
    ]
    assert (got.rows[0]["ts"], got.rows[0]["flags"]) == (datetime(2025, 8, 18, 1, 16, 13, 522000, tzinfo=UTC), [])
    assert {(r["ts"], tuple(r["flags"])) for r in got.rows[1:]} == {
        (datetime(2025, 8, 18, 1, 16, 13, tzinfo=UTC), ("ts_assumed_utc",))}
    assert got.rows[4]["text"] is None  # encrypted reasoning only
    assert {r["session_id"] for r in got.rows} == {LEGACY}


def test_exec_stream_decodes_completed_items() -> None:
    got = decode_file(EXEC, FORMAT)
    assert got.skipped == Counter({"codex exec turn.started": 2, "codex exec item.started": 2,
                                   "codex exec item.updated": 1})
    assert list(zip(got.lines, map(key_fields, got.rows), strict=True)) == [
        (1, ("system_prompt", None, None, None, None, None)),  # thread.started
        (3, ("reasoning", None, None, None, None, None)),
        (5, ("tool_call", "command_execution", "item_1", None, None, None)),
        (5, ("tool_result", "command_execution", "item_1", "ok", None, None)),
        (6, ("tool_call", "file_change", "item_2", None, None, None)),
        (6, ("tool_result", "file_change", "item_2", "ok", None, None)),
        (7, ("tool_call", "command_execution", "item_3", None, None, None)),
        (7, ("tool_result", "command_execution", "item_3", "error", None, None)),  # declined
        (9, ("tool_call", "mcp__github__create_pull_request", "item_4", None, None, None)),
        (9, ("tool_result", "mcp__github__create_pull_request", "item_4", "ok", None, None)),
        (10, ("tool_call", "web_search", "item_5", None, None, None)),
        (12, ("tool_call", "todo_list", "item_6", None, None, None)),
        (13, ("llm_response", None, None, None, None, None)),
        (14, ("llm_response", None, None, None, 24763, 122)),  # turn.completed usage
        (16, ("error", None, None, "error", None, None)),
        (17, ("error", None, None, "error", None, None)),
    ]
    session = "codex-exec-2025-11-02T14-30-00"
    assert {(r["session_id"], r["ts"]) for r in got.rows} == {(session, datetime(2025, 11, 2, 14, 30, tzinfo=UTC))}
    thread = orjson.loads(got.rows[0]["attrs"])
    assert thread == {"thread_id": "019a2d7a-41c4-78b1-b7cc-a45d62a89cd5"}
    assert orjson.loads(got.rows[2]["tool_args"]) == {"command": "bash -lc 'pytest -q'"}
    assert (got.rows[3]["text"], got.rows[9]["text"]) == ("3 passed in 0.41s\n", "PR #42 opened")


def test_ids_are_stable_unique_and_ordered_by_line() -> None:
    first = [decode_file(path, FORMAT).rows for path in ALL]
    ids = [r["event_id"] for rows in first for r in rows]
    assert ids == [r["event_id"] for path in ALL for r in decode_file(path, FORMAT).rows]
    assert len(ids) == len(set(ids)) == 44
    exec_rows = first[3]
    assert [(r["event_id"], r["seq"]) for r in exec_rows[2:4]] == [
        ("codex-exec-2025-11-02T14-30-00:5:64cc8c3b2e47972f:0", 5000),
        ("codex-exec-2025-11-02T14-30-00:5:64cc8c3b2e47972f:1", 5001)]  # line, its hash, index
    for rows in first:
        assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)


def test_every_tool_result_answers_an_earlier_call() -> None:
    for path in ALL:
        rows = decode_file(path, FORMAT).rows
        calls = {r["tool_call_id"]: r["seq"] for r in rows if r["event_type"] == "tool_call"}
        for result in (r for r in rows if r["event_type"] == "tool_result"):
            assert calls[result["tool_call_id"]] < result["seq"]


def test_every_event_validates() -> None:
    for path in ALL:
        got = decode_file(path, FORMAT)
        assert got.refused == {}
        for row in got.rows:
            assert row["source_format"] == "codex" and row["ts"].tzinfo is UTC
            assert set(row["flags"]) <= {"ts_assumed_utc"}


def test_sniffer_knows_codex_and_nothing_else() -> None:
    for path in ALL:
        line = first_line(path)
        assert (FORMAT.sniff(line), CLAUDE.sniff(line), sniff_native(line)) == (True, False, False)
    for path in sorted(FIXTURES.rglob("*.jsonl")):  # every other format's fixtures
        if path.relative_to(FIXTURES).parts[0] != "codex":
            assert FORMAT.sniff(first_line(path)) is False, path
    native = b'{"ts": "2026-11-20T10:00:00Z", "session_id": "s", "event_type": "error", "agent_id": "a"}'
    assert [FORMAT.sniff(x) for x in (native, b'{"record_type": "state"}', b"{", b'"x"')] == [
        False, True, False, False]


ROLLOUT_FILE = f"/h/.codex/sessions/2025/10/29/rollout-2025-10-29T09-15-02-{PARENT}.jsonl"


def item(payload: dict) -> dict:
    return {"timestamp": "2025-10-29T09:15:02.417Z", "type": "response_item", "payload": payload}


SHELL_FAILED = "Exit code: 2\nWall time: 0.3 seconds\nOutput:\nno such file"
OLD_SHELL = '{"output": "ok", "metadata": {"exit_code": "0"}}'


@pytest.mark.parametrize(
    ("output", "text", "status"),
    [
        (SHELL_FAILED, SHELL_FAILED, "error"),
        ([{"type": "input_text", "text": "line one"}, {"type": "input_image", "image_url": "data:x"}],
         "line one", "ok"),
        ({"content": "denied by policy", "success": False}, "denied by policy", "error"),
        (OLD_SHELL, OLD_SHELL, "ok"),  # an exit code that is not a number says nothing
        (None, None, None),
    ],
)
def test_output_shapes_give_text_and_status(output: object, text: str | None, status: str | None) -> None:
    (row,) = decode_one(FORMAT, item({"type": "function_call_output", "call_id": "c1", "output": output}),
                        ROLLOUT_FILE)
    assert (row["text"], row["status"]) == (text, status)
    if isinstance(output, list):
        assert orjson.loads(row["attrs"])["output"] == [{"type": "input_image", "image_url": "data:x"}]


def test_spawn_agent_call_is_an_agent_spawn() -> None:
    (row,) = decode_one(FORMAT, item({"type": "function_call", "name": "spawn_agent", "call_id": "c9",
                                      "arguments": '{"message": "scan deploy/"}'}), ROLLOUT_FILE)
    assert (row["event_type"], row["tool_name"], row["tool_call_id"]) == ("agent_spawn", "spawn_agent", "c9")


def test_policy_objects_are_named_by_their_key() -> None:
    context = {"timestamp": "2026-07-13T10:00:00Z", "type": "turn_context",
               "payload": {"approval_policy": {"granular": {"sandbox": True}}, "sandbox_policy": None}}
    (row,) = decode_one(FORMAT, context, ROLLOUT_FILE)
    assert row["text"] == "turn context: approval_policy=granular, sandbox_policy=unset"


def test_session_comes_from_the_file_name_not_the_line() -> None:
    meta = {"timestamp": "2025-10-29T09:15:02Z", "type": "session_meta", "payload": {"id": "someone-else"}}
    (row,) = decode_one(FORMAT, meta, ROLLOUT_FILE.replace(".jsonl", ".jsonl.gz"))
    assert (row["session_id"], orjson.loads(row["attrs"])["id"]) == (PARENT, "someone-else")
