"""Hostile Claude Code and Codex records: wrong kinds, missing fields, bad ids, nesting and sizes meant
to break the writer, unknown kinds. Each is refused or skipped with its exact reason, never crashes,
and what is accepted passes `normalize_event` unchanged."""

from __future__ import annotations

import copy

import orjson
import pytest

from agentwatch.errors import RecordError
from agentwatch.ingest.formats import SkipRecord
from agentwatch.ingest.formats.claude_code.decoder import FORMAT as CLAUDE
from agentwatch.ingest.formats.codex.decoder import FORMAT as CODEX
from tests.ingest.formats.agent_log_files import decode_one

CLAUDE_FILE = "/h/.claude/projects/-srv-api/5a1d.jsonl"
ROLLOUT_FILE = "/h/.codex/sessions/2025/10/29/rollout-2025-10-29T09-15-02-0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b.jsonl"
EXEC_FILE = "/ci/logs/codex-exec-2025-11-02T14-30-00.jsonl"
UNDATED_EXEC_FILE = "/ci/logs/run.jsonl"


def nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = {"k": value}
    return value


def claude(**changes: object) -> dict:
    """A valid assistant record; `changes` replace fields (dotted keys reach into `message`)."""
    rec = {"type": "assistant", "uuid": "a-1", "parentUuid": "u-1", "sessionId": "5a1d", "cwd": "/srv/api",
           "timestamp": "2025-11-19T22:53:34.908Z",
           "message": {"id": "msg_1", "model": "claude-x", "role": "assistant",
                       "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"c": "ls"}}],
                       "usage": {"input_tokens": 1, "output_tokens": 2}}}
    for key, value in changes.items():
        holder, name = (rec["message"], key[8:]) if key.startswith("message.") else (rec, key)
        if value is DROP:
            holder.pop(name, None)
        else:
            holder[name] = value
    return rec


def rollout(kind: str, payload: object, **top: object) -> dict:
    rec = {"timestamp": "2025-10-29T09:15:02.417Z", "type": kind, "payload": payload, **top}
    return {k: v for k, v in rec.items() if v is not DROP}


DROP = object()
CALL = {"type": "function_call", "name": "shell", "arguments": "{}", "call_id": "call_1"}


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ([], "expected a JSON object, got array"),
        ("assistant", "expected a JSON object, got string"),
        (claude(type=5), "`type`: expected string, got number"),
        (claude(type="telemetry-beacon"), "unknown claude code record type 'telemetry-beacon'"),
        (claude(type="x" * 500), f"unknown claude code record type '{'x' * 64}…'"),
        (claude(uuid=DROP), "missing `uuid`"),
        (claude(uuid=123), "`uuid`: expected string, got number"),
        (claude(uuid="a b"), "`uuid`: not a usable id (empty, over 256 chars, or with whitespace)"),
        (claude(uuid="u" * 257), "`uuid`: not a usable id (empty, over 256 chars, or with whitespace)"),
        (claude(uuid="a\x00"), "`uuid`: not a usable id (empty, over 256 chars, or with whitespace)"),
        (claude(sessionId=""), "`sessionId`: not a usable id (empty, over 256 chars, or with whitespace)"),
        (claude(parentUuid=["u-1"]), "`parentUuid`: expected string, got array"),
        (claude(timestamp=DROP), "missing `timestamp`"),
        (claude(timestamp=1763592814), "`timestamp`: expected string, got number"),
        (claude(timestamp="yesterday"), "`timestamp`: not an ISO-8601 timestamp: 'yesterday'"),
        (claude(message="hi"), "`message`: expected object, got string"),
        (claude(message=DROP), "missing `message`"),
        (claude(**{"message.content": 5}), "`message.content`: expected string or array, got number"),
        (claude(**{"message.content": None}), "`message.content`: expected string or array, got null"),
        (claude(**{"message.content": [1]}), "`message.content[0]`: expected object, got number"),
        (claude(**{"message.content": [{"text": "x"}]}), "`message.content[0].type`: expected string, got null"),
        (claude(**{"message.content": [{"type": "tool_use", "name": "Bash"}]}), "missing `message.content[0].id`"),
        (claude(**{"message.content": [{"type": "tool_use", "id": "t"}]}), "missing `message.content[0].name`"),
        (claude(**{"message.content": [{"type": "text", "text": 7}]}),
         "`message.content[0].text`: expected string, got number"),
        (claude(**{"message.content": [{"type": "text", "text": "x"}] * 1001}),
         "`message.content`: more than 1000 blocks"),
        (claude(type="user", **{"message.content": [{"type": "tool_result", "tool_use_id": "t", "is_error": "yes"}]}),
         "`message.content[0].is_error`: expected boolean, got string"),
        (claude(type="user", **{"message.content": [{"type": "tool_result", "tool_use_id": "t", "content": {}}]}),
         "`message.content[0].content`: expected array, got object"),
        (claude(**{"message.usage": {"output_tokens": "12"}}),
         "`message.usage.output_tokens`: expected integer, got string"),
        (claude(**{"message.usage": {"output_tokens": True}}),
         "`message.usage.output_tokens`: expected integer, got boolean"),
        (claude(**{"message.usage": {"output_tokens": -1}}), "`output_tokens` must not be negative, got -1"),
        (claude(**{"message.model": 4}), "`message.model`: expected string, got number"),
        (claude(toolUseResult=nested(300)), "record nested too deeply to store"),
        (claude(**{"message.content": [{"type": "text", "text": "\ud800"}]}),
         "record cannot be stored as JSON (str is not valid UTF-8: surrogates not allowed)"),
        (claude(toolUseResult={"n": 10**20}), "record holds an integer outside the 64-bit range"),
        (claude(type="system", level="error", content={"text": "x"}), "`content`: expected string, got object"),
    ],
)
def test_claude_code_refuses_with_exact_reason(record: object, reason: str) -> None:
    with pytest.raises(RecordError) as refused:
        decode_one(CLAUDE, record, CLAUDE_FILE)
    assert refused.value.message == reason


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"type": "summary", "summary": "t", "leafUuid": "x"}, "claude code summary record"),
        ({"type": "file-history-snapshot", "messageId": "m"}, "claude code file-history-snapshot record"),
        ({"type": "progress", "uuid": 3}, "claude code progress record"),  # skipped before any field is read
        (claude(**{"message.content": []}), "claude code assistant record without content"),
    ],
)
def test_claude_code_skips_with_exact_reason(record: dict, reason: str) -> None:
    with pytest.raises(SkipRecord) as skipped:
        decode_one(CLAUDE, record, CLAUDE_FILE)
    assert str(skipped.value) == reason


def test_claude_code_keeps_huge_and_strange_text_verbatim() -> None:
    text = "\u202eevil\u200b " + "x" * 5_000_000 + " \U0001f600"
    (row,) = decode_one(CLAUDE, claude(**{"message.content": [{"type": "text", "text": text}]},
                                       **{"ключ": "значение"}), CLAUDE_FILE)
    assert row["text"] == text
    assert orjson.loads(row["attrs"])["ключ"] == "значение"


def test_claude_code_accepts_nesting_just_under_the_limit_and_leaves_input_unchanged() -> None:
    rec = claude(toolUseResult=nested(240))
    before = copy.deepcopy(rec)
    (row,) = decode_one(CLAUDE, rec, CLAUDE_FILE)
    assert rec == before
    assert row["event_type"] == "tool_call"


@pytest.mark.parametrize(
    ("record", "source_file", "reason"),
    [
        ([], ROLLOUT_FILE, "expected a JSON object, got array"),
        ({"foo": 1}, ROLLOUT_FILE, "not a codex record: `type` is null"),
        (rollout("response_item", "x"), ROLLOUT_FILE, "`payload`: expected object, got string"),
        (rollout("response_item", CALL, timestamp=DROP), ROLLOUT_FILE, "missing `timestamp`"),
        (rollout("response_item", CALL, timestamp="soon"), ROLLOUT_FILE, "`ts`: not an ISO-8601 timestamp: 'soon'"),
        ({"type": 7, "payload": {}}, ROLLOUT_FILE, "`type`: expected string, got number"),
        (rollout("mystery", {}), ROLLOUT_FILE, "unknown codex record type 'mystery'"),
        (rollout("response_item", {"type": "hologram"}), ROLLOUT_FILE, "unknown codex response item type 'hologram'"),
        (rollout("response_item", {"role": "user"}), ROLLOUT_FILE, "`payload.type`: expected string, got null"),
        (rollout("response_item", {**CALL, "name": None}), ROLLOUT_FILE, "missing `payload.name`"),
        (rollout("response_item", {**CALL, "call_id": 42}), ROLLOUT_FILE,
         "`payload.call_id`: expected string, got number"),
        (rollout("response_item", {**CALL, "call_id": "a\nb"}), ROLLOUT_FILE,
         "`payload.call_id`: not a usable id (empty, over 256 chars, or with whitespace)"),
        (rollout("response_item", {"type": "function_call_output", "output": "x"}), ROLLOUT_FILE,
         "missing `payload.call_id`"),
        (rollout("response_item", {"type": "function_call_output", "call_id": "c", "output": 5}), ROLLOUT_FILE,
         "`payload.output`: expected string, array or object, got number"),
        (rollout("response_item", {"type": "message", "role": "robot", "content": []}), ROLLOUT_FILE,
         "unknown codex message role 'robot'"),
        (rollout("response_item", {"type": "message", "role": "user", "content": "hi"}), ROLLOUT_FILE,
         "`payload.content`: expected array, got string"),
        (rollout("response_item", {"type": "reasoning", "summary": [3]}), ROLLOUT_FILE,
         "`payload.summary[0]`: expected object, got number"),
        (rollout("event_msg", {"message": "x"}), ROLLOUT_FILE, "`payload.type`: expected string, got null"),
        (rollout("event_msg", {"type": "hologram_begin"}), ROLLOUT_FILE,
         "unknown codex event_msg type 'hologram_begin'"),
        (rollout("event_msg", {"type": "token_count", "info": {"last_token_usage": {"input_tokens": "5"}}}),
         ROLLOUT_FILE, "`payload.info.last_token_usage.input_tokens`: expected integer, got string"),
        (rollout("event_msg", {"type": "token_count", "info": {"last_token_usage": {"output_tokens": 2**64}}}),
         ROLLOUT_FILE, "record holds an integer outside the 64-bit range"),
        (rollout("event_msg", {"type": "item_completed", "item": {"type": "AgentMessage", "id": "i"}}), ROLLOUT_FILE,
         "codex event_msg item_completed of type 'AgentMessage' is not decoded"),
        (rollout("session_meta", {"cwd": "/srv"}), ROLLOUT_FILE, "missing `payload.id`"),
        (rollout("session_meta", {"id": "s", "source": {"subagent": {"thread_spawn": {"parent_thread_id": ""}}}}),
         ROLLOUT_FILE,
         "`payload.source.subagent.thread_spawn.parent_thread_id`: not a usable id (empty, over 256 chars, or with "
         "whitespace)"),
        (rollout("turn_context", {"model": 5}), ROLLOUT_FILE, "`model`: expected string, got number"),
        (rollout("event_msg", {"type": "exec_command_end", "exit_code": 1}), ROLLOUT_FILE,
         "missing `payload.call_id`"),
        (rollout("event_msg", {"type": "exec_command_end", "call_id": "c1", "exit_code": "1"}), ROLLOUT_FILE,
         "`payload.exit_code`: expected integer, got string"),
        (rollout("response_item", {**CALL, "extra": nested(260)}), ROLLOUT_FILE, "record nested too deeply to store"),
        (rollout("response_item", CALL), "/h/.codex/sessions/.jsonl",
         "no session id: the file name is empty or too long to name a session"),
        ({"type": "thread.started", "thread_id": "t"}, UNDATED_EXEC_FILE,
         "codex exec thread.started event has no timestamp, and neither its thread id nor its file name carries one"),
        ({"type": "message", "role": "user", "content": []}, UNDATED_EXEC_FILE,
         "bare codex rollout line has no timestamp, and the file name carries none"),
        ({"type": "thread.exploded"}, EXEC_FILE, "unknown codex exec event type 'thread.exploded'"),
        ({"type": "thread.started"}, EXEC_FILE, "missing `thread_id`"),
        ({"type": "item.completed"}, EXEC_FILE, "missing `item`"),
        ({"type": "item.completed", "item": {"type": "agent_message", "text": "x"}}, EXEC_FILE, "missing `item.id`"),
        ({"type": "item.completed", "item": {"id": "i", "type": "hologram"}}, EXEC_FILE,
         "unknown codex exec item type 'hologram'"),
        ({"type": "item.completed", "item": {"id": "i", "type": "command_execution", "exit_code": "0"}}, EXEC_FILE,
         "`item.exit_code`: expected integer, got string"),
        ({"type": "turn.completed", "usage": {"output_tokens": -5}}, EXEC_FILE,
         "`output_tokens` must not be negative, got -5"),
        ({"type": "turn.failed", "error": "boom"}, EXEC_FILE, "`error`: expected object, got string"),
    ],
)
def test_codex_refuses_with_exact_reason(record: object, source_file: str, reason: str) -> None:
    with pytest.raises(RecordError) as refused:
        decode_one(CODEX, record, source_file)
    assert refused.value.message == reason


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"record_type": "state", "junk": nested(200)}, "codex rollout state marker"),
        (rollout("compacted", {"message": "m"}), "codex compacted record"),
        (rollout("world_state", {"full": True}), "codex world_state record"),
        (rollout("response_item", {"type": "ghost_snapshot", "ghost_commit": {}}), "codex ghost_snapshot item"),
        (rollout("response_item", {"type": "message", "role": "user", "content": []}),
         "codex message item without content"),
        (rollout("event_msg", {"type": "token_count", "info": None}), "codex event_msg token_count without usage"),
        (rollout("event_msg", {"type": "patch_apply_end", "call_id": "c1", "success": False}),
         "codex event_msg patch_apply_end (repeats a response_item)"),
        (rollout("event_msg", {"type": "turn_started"}), "codex event_msg turn_started"),
        (rollout("event_msg", {"type": "item_completed", "item": {"type": "Plan", "id": "p", "text": "1. fix"}}),
         "codex event_msg item_completed (plan)"),
        ({"type": "item.updated", "item": "not even an object"}, "codex exec item.updated"),
    ],
)
def test_codex_skips_with_exact_reason(record: dict, reason: str) -> None:
    with pytest.raises(SkipRecord) as skipped:
        decode_one(CODEX, record, EXEC_FILE if "." in str(record.get("type")) else ROLLOUT_FILE)
    assert str(skipped.value) == reason


def test_codex_tool_arguments_that_are_not_json_stay_valid_json() -> None:
    (row,) = decode_one(CODEX, rollout("response_item", {**CALL, "arguments": "{not json"}), ROLLOUT_FILE)
    assert orjson.loads(row["tool_args"]) == "{not json"
