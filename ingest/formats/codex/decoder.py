"""OpenAI Codex CLI logs into canonical events: session rollouts and `codex exec --json` streams.

Three shapes, told apart per line:
- rollouts (`~/.codex/sessions/YYYY/MM/DD/rollout-<local time>-<uuid>.jsonl`, Sept 2025 on):
  `{timestamp, type, payload}` with type session_meta, turn_context, response_item, event_msg, ...;
- bare rollouts (earlier): a first line `{id, timestamp, instructions, git}`, then response items as
  the lines themselves, with no timestamp, and `{"record_type": "state"}` markers;
- exec streams (`codex exec --json`): `{type: "thread.started" | "turn.*" | "item.*" | "error", ...}`,
  with no timestamp (see `codex_exec`).

Mapping (response items: see `codex_items`):
- session_meta (and the bare first line) -> `system_prompt`, text = the instructions it carries;
  a sub-agent's meta names its parent thread: `parent_session_id` (on that event only).
- turn_context -> `system_prompt`, text summarizing the approval and sandbox policy in force (the
  oversight a turn ran under), `model` = its model, the whole context in attrs.
- event_msg token_count -> `llm_response` without text, tokens = `last_token_usage` (input includes
  cached input, output includes reasoning, as OpenAI counts; the running totals stay in attrs: a
  repeated token_count repeats its usage, so sum distinct `attrs.info.total_token_usage`).
  exec_command_end (written with extended history) -> `tool_result`, `error` on a non-zero
  `exit_code` or a failed/declined `status`, marked `attrs.repeats_output` (the call's output item
  reports it too). error and turn_aborted -> `error`. Messages, reasoning and other tool ends that
  repeat a response item are skipped (counted), as are lifecycle events and plan updates; an
  event_msg of unknown type, and an item_completed that is not a plan (paginated history mode, not
  decoded yet), is quarantined, raw.
- compacted and world_state carry no event; an unknown record type is quarantined.
Codex logs name no model per message (turn_context does), no agent and no human.

Sessions, ids, order: a line does not carry its session: `session_id` is the uuid the rollout file is
named by (Codex names it after the session id), else the file's stem; an exec stream's is the
`thread_id` of its first line (`thread.started`), whatever the file is called. `agent_id` is `codex`.
`event_id` = `<session>:<line>:<index>`, `seq` = `seq_of(line, index)`: a rollout is one session
written in order, resumed by appending. An exec event's id also holds a hash of the line
(`<session>:<line>:<hash>:<index>`): a resumed thread's next stream starts again at line 1, and its
events must not merge with the first run's, while a copy of a stream still deduplicates. Lines
without a timestamp take, for exec streams, the time in the thread id when it is a UUIDv7 (flagged
`ts_from_thread_id`); else (and for bare rollouts) the one in the file name (`YYYY-MM-DD[THH-MM-SS]`,
local time: stored as UTC, flagged `ts_assumed_utc`); else, for exec streams, the file's mtime
(flagged `ts_from_file_mtime`); else they are quarantined.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Any, NoReturn

import orjson

from agentwatch.errors import RecordError
from agentwatch.ingest.formats import Format, SkipRecord
from agentwatch.ingest.formats.codex.exec_events import decode_exec_event
from agentwatch.ingest.formats.codex.items import decode_item
from agentwatch.ingest.formats.fields import (
    check_structure,
    file_stem,
    get_dict,
    get_id,
    get_int,
    get_str,
    load_object,
    quoted,
    without,
)
from agentwatch.ingest.records import DecodedEvent, Location, json_kind, seq_of, time_of_nanos

AGENT_ID = "codex"
ROLLOUT_TYPES = frozenset({"session_meta", "turn_context", "response_item", "event_msg", "compacted"})
SKIPPED_RECORDS = frozenset({"compacted", "world_state"})
# event_msg payloads that repeat a response item, and lifecycle events: neither is an event.
REPEATS = frozenset({
    "user_message", "agent_message", "agent_reasoning", "agent_reasoning_raw_content",
    "agent_reasoning_section_break", "patch_apply_end", "mcp_tool_call_end",
    "web_search_end", "view_image_tool_call", "image_generation_end", "dynamic_tool_call_request",
    "dynamic_tool_call_response", "collab_agent_spawn_end", "collab_agent_interaction_end",
    "collab_waiting_end", "collab_close_end", "collab_resume_end",
})
LIFECYCLE = frozenset({
    "task_started", "task_complete", "turn_started", "turn_complete", "context_compacted",
    "thread_name_updated", "entered_review_mode", "exited_review_mode", "thread_rolled_back",
    "plan_update", "turn_diff", "background_event", "stream_error", "warning",
})
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SESSION_UUID = re.compile(r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$")
_NAME_TS = re.compile(r"(\d{4}-\d{2}-\d{2})(?:T(\d{2})-(\d{2})-(\d{2}))?")


def sniff_codex(first_record: bytes) -> bool:
    """A rollout line, a bare rollout's first line or state marker, or an exec stream event."""
    obj = load_object(first_record)
    if obj is None:
        return False
    kind = obj.get("type")
    if kind in ROLLOUT_TYPES:
        return isinstance(obj.get("payload"), dict)
    if isinstance(kind, str):
        return "." in kind and kind.split(".")[0] in ("thread", "turn", "item")
    bare_meta = "id" in obj and "timestamp" in obj and ("instructions" in obj or "git" in obj)
    return "record_type" in obj or bare_meta


def decode_codex(record: Any, where: Location) -> list[DecodedEvent]:
    """One rollout line or exec event into its events."""
    if not isinstance(record, dict):
        raise RecordError(f"expected a JSON object, got {json_kind(record)}")
    if "record_type" in record:
        raise SkipRecord("codex rollout state marker")
    check_structure(record)
    exec_thread = _exec_thread(where.hints.first_record)
    session = exec_thread or _session_of(where.source_file)
    events, ts, flags = _route(record, where, exec_thread)
    line = f"{where.line_no}:{_digest(record)}" if _is_exec_event(record) else str(where.line_no)
    for index, event in enumerate(events):
        event.update(
            event_id=f"{session}:{line}:{index}",
            ts=ts,
            seq=seq_of(where.line_no, index),
            agent_id=AGENT_ID,
            session_id=session,
            flags=flags,
        )
    return [DecodedEvent.of(event) for event in events]


def _route(record: dict, where: Location, thread: str | None) -> tuple[list[dict[str, Any]], Any, tuple[str, ...]]:
    """The record's events, timestamp and the flags saying where a missing time came from."""
    kind = record.get("type")
    if "payload" in record:
        if not isinstance(kind, str):
            raise RecordError(f"`type`: expected string, got {json_kind(kind)}")
        return _rollout_line(kind, record), get_str(record, "timestamp", required=True), ()
    if _is_exec_event(record):
        return (decode_exec_event(record), *_exec_ts(where, thread, f"codex exec {kind} event"))
    if isinstance(kind, str):
        ts = get_str(record, "timestamp") or _name_ts(where, "bare codex rollout line")
        return decode_item(record, ""), ts, ()
    if kind is None and "id" in record and "timestamp" in record:
        return [_meta(record, "")], get_str(record, "timestamp", required=True), ()
    raise RecordError(f"not a codex record: `type` is {json_kind(kind)}")


def _is_exec_event(record: dict) -> bool:
    kind = record.get("type")
    return "payload" not in record and isinstance(kind, str) and ("." in kind or kind == "error")


def _digest(record: dict) -> str:
    """What an exec event says, hashed: `codex exec resume` writes the same thread to another stream
    whose lines restart at 1, so the line number alone would merge its events with the first run's."""
    return hashlib.md5(orjson.dumps(record, option=orjson.OPT_SORT_KEYS), usedforsecurity=False).hexdigest()[:16]


def _exec_thread(first_record: bytes) -> str | None:
    """The thread id a `codex exec --json` stream starts with (`thread.started`), if it does."""
    first = load_object(first_record) if first_record else None
    if first is None or first.get("type") != "thread.started":
        return None
    thread = first.get("thread_id")
    return thread.lower() if isinstance(thread, str) and _UUID.match(thread) else None


def _exec_ts(where: Location, thread: str | None, what: str) -> tuple[Any, tuple[str, ...]]:
    """An exec stream carries no time: the thread id's, if a UUIDv7 (its first 48 bits are its
    creation time in ms), else the file name's, else the file's mtime. Each is flagged."""
    if thread is not None and thread[14] == "7":
        millis = int(thread.replace("-", "")[:12], 16)
        return time_of_nanos(millis * 1_000_000), ("ts_from_thread_id",)
    if _NAME_TS.search(file_stem(where.source_file)):
        return _name_ts(where, what), ()
    if where.hints.mtime_ns is None:
        raise RecordError(f"{what} has no timestamp, and neither its thread id nor its file name carries one")
    return time_of_nanos(where.hints.mtime_ns), ("ts_from_file_mtime",)


def _rollout_line(kind: str, record: dict) -> list[dict[str, Any]]:
    if kind in SKIPPED_RECORDS:
        raise SkipRecord(f"codex {kind} record")
    payload = get_dict(record, "payload", required=True)
    if kind == "response_item":
        return decode_item(payload, "payload.")
    if kind == "event_msg":
        return [_event_msg(payload)]
    if kind == "session_meta":
        return [_meta(payload, "payload.")]
    if kind == "turn_context":
        return [_turn_context(payload)]
    raise RecordError(f"unknown codex record type {quoted(kind)}")


def _meta(meta: dict, path: str) -> dict[str, Any]:
    """Session metadata: the instructions are its text; a sub-agent's names its parent thread."""
    get_id(meta, "id", path, required=True)
    attrs = without(meta, "instructions")
    base = get_dict(meta, "base_instructions", path)
    base_text = None
    if base is not None:
        base_text = get_str(base, "text", f"{path}base_instructions.")
        attrs["base_instructions"] = without(base, "text")
    spawn = _dig(meta, "source", "subagent", "thread_spawn")
    parent_path = f"{path}source.subagent.thread_spawn."
    return {
        "event_type": "system_prompt",
        "text": get_str(meta, "instructions", path) or base_text,
        "parent_session_id": get_id(spawn, "parent_thread_id", parent_path) if spawn else None,
        "attrs": attrs,
    }


def _dig(obj: dict, *keys: str) -> dict | None:
    for key in keys:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj if isinstance(obj, dict) else None


def _turn_context(context: dict) -> dict[str, Any]:
    sandbox = context.get("sandbox_policy")
    if isinstance(sandbox, dict):
        sandbox = sandbox.get("type") or sandbox.get("mode")
    approval = context.get("approval_policy")
    return {
        "event_type": "system_prompt",
        "model": get_str(context, "model"),
        "text": f"turn context: approval_policy={_plain(approval)}, sandbox_policy={_plain(sandbox)}",
        "attrs": context,
    }


def _plain(value: Any) -> str:
    """A policy's name: policies are strings, or objects keyed by their name."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        return next(iter(value))
    return "unset" if value is None else "other"


def _event_msg(payload: dict) -> dict[str, Any]:
    kind = payload.get("type")
    if not isinstance(kind, str):
        raise RecordError(f"`payload.type`: expected string, got {json_kind(kind)}")
    if kind in REPEATS:
        raise SkipRecord(f"codex event_msg {kind} (repeats a response_item)")
    if kind in LIFECYCLE:
        raise SkipRecord(f"codex event_msg {kind}")
    attrs = without(payload, "type")
    if kind == "item_completed":
        _completed_item(payload)
    if kind == "token_count":
        return _token_count(payload, attrs)
    if kind == "exec_command_end":
        return _command_end(payload)
    if kind == "error":
        return {"event_type": "error", "status": "error", "text": get_str(payload, "message", "payload."),
                "attrs": attrs}
    if kind == "turn_aborted":
        reason = get_str(payload, "reason", "payload.")
        return {"event_type": "error", "status": "error", "text": f"turn aborted: {reason}", "attrs": attrs}
    raise RecordError(f"unknown codex event_msg type {quoted(kind)}")


def _completed_item(payload: dict) -> NoReturn:
    """Rollouts keep `item_completed` only for plans, unless written in `paginated` history mode,
    where it carries the conversation itself: those are not decoded yet, so they are kept raw."""
    item = get_dict(payload, "item", "payload.", required=True)
    kind = item.get("type")
    if isinstance(kind, str) and kind.lower() == "plan":
        raise SkipRecord("codex event_msg item_completed (plan)")
    raise RecordError(f"codex event_msg item_completed of type {quoted(str(kind))} is not decoded")


def _command_end(payload: dict) -> dict[str, Any]:
    """A command's end (rollouts written with extended history): its exit code and status say whether
    it failed. The call's output item reports the same result, so this one is marked `repeats_output`:
    the metrics count one result per call, failed when either report failed."""
    exit_code = get_int(payload, "exit_code", "payload.")
    status = get_str(payload, "status", "payload.")
    text = get_str(payload, "aggregated_output", "payload.") or None
    return {
        "event_type": "tool_result",
        "tool_call_id": get_id(payload, "call_id", "payload.", required=True),
        "text": text,
        "status": "error" if status in ("failed", "declined") or exit_code not in (None, 0) else "ok",
        "attrs": {**without(payload, "type", "call_id", *(("aggregated_output",) if text else ())),
                  "repeats_output": True},
    }


def _token_count(payload: dict, attrs: dict[str, Any]) -> dict[str, Any]:
    """Usage of the last model call; older versions put the counts on the payload itself."""
    info = get_dict(payload, "info", "payload.")
    usage = get_dict(info, "last_token_usage", "payload.info.") if info else None
    path = "payload.info.last_token_usage."
    if usage is None and "input_tokens" in payload:
        usage, path = payload, "payload."
    if usage is None:
        raise SkipRecord("codex event_msg token_count without usage")
    return {
        "event_type": "llm_response",
        "input_tokens": get_int(usage, "input_tokens", path),
        "output_tokens": get_int(usage, "output_tokens", path),
        "attrs": attrs,
    }


@lru_cache(maxsize=1024)
def _session_of(source_file: str) -> str:
    stem = file_stem(source_file)
    match = _SESSION_UUID.search(stem)
    if match:
        return match.group(1).lower()
    if not stem or len(stem) > 200:
        raise RecordError("no session id: the file name is empty or too long to name a session")
    return stem


def _name_ts(where: Location, what: str) -> str:
    """The timestamp in the file name, naive (Codex writes local time there)."""
    match = _NAME_TS.search(file_stem(where.source_file))
    if not match:
        raise RecordError(f"{what} has no timestamp, and the file name carries none")
    date, hour, minute, second = match.groups()
    return f"{date}T{hour or '00'}:{minute or '00'}:{second or '00'}"


FORMAT = Format(name="codex", sniff=sniff_codex, decode=decode_codex)
