"""Claude Code transcripts (`~/.claude/projects/<project>/<session>.jsonl`) into canonical events.

One event per content block (a string `content` is one block), so one record gives one or more:

- user: text -> `user_prompt`; `system_prompt` instead when Claude Code injected it (`isMeta`,
  `isCompactSummary`, text that opens with a `<system-reminder>`, or the output of a command the human
  ran: `<bash-stdout>`, `<local-command-stdout>`, their stderr); `tool_result` -> `tool_result`
  (`tool_call_id` = `tool_use_id`, `status` from `is_error`), so a message of tool results only is
  never a human prompt; image/document -> a prompt event without text.
- assistant: text -> `llm_response`, thinking/redacted_thinking -> `reasoning`, tool_use and
  server_tool_use -> `tool_call`, except the sub-agent tools `Task`/`Agent` -> `agent_spawn` (text =
  the delegated prompt); server tool results -> `tool_result`. `isApiErrorMessage` -> `error`.
- system: `error` when `level` is error or `subtype` is api_error, else `system_prompt`.
- A block type not listed keeps its name as `event_type` (normalize_event stores it as `unknown`).
- summary, file-history-snapshot, queue-operation, ... carry no event: `SkipRecord`; a record type
  never seen before is quarantined (`RecordError`), raw, so a new Claude Code release loses nothing.

Ids, order, sessions:
- `event_id` = `<uuid>:<block index>`. A resumed session copies earlier records, uuids included, into
  its new file: the copies deduplicate. `span_id` = uuid, `parent_span_id` = parentUuid.
- `seq` = `seq_of(timestamp in microseconds, block index)`: a session can span files (resume), so
  line numbers do not order it. Ties between records of the same microsecond keep no defined order.
- A sidechain record (`isSidechain`: a Task/Agent sub-agent, inline in old versions, in
  `<session>/subagents/agent-<id>.jsonl` in newer ones) belongs to the child session
  `<sessionId>/agent-<agentId>` (old inline sidechains without agentId: `<sessionId>/sidechain`), with
  `parent_session_id` = sessionId. The spawning side's tool_result names it in `attrs.child_session_id`.
- Claude Code's own side chains are housekeeping, not delegation: the compaction chain
  (`agent-acompact-*.jsonl`, agentId `acompact-*`, 2.1.x) and the start-up warmup (a side chain whose
  prompt is `Warmup`, 2.0.x `agent-*.jsonl`). Their events are kept, marked `attrs.housekeeping`
  (`compaction` / `warmup`; for a warmup only its prompt record can tell: the metrics mark the whole
  child session), and what they say to the model is a `system_prompt`, never a human's `user_prompt`.
- `agent_id` = `claude-code:<project folder>` (the session file's folder, above `<session>/subagents/`
  for sub-agent files; the cwd's last component when the path has no folder): logs name no agent.

Tokens: `input_tokens` = input + cache_creation + cache_read (the whole prompt, as OpenAI counts it);
`output_tokens` as given; both on the record's first event. Claude Code writes one record per block
of a streamed response and repeats the message's usage on each: sum over distinct
`attrs.message.id` (taking the max), never over events.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePath
from typing import Any

from agentwatch.errors import RecordError
from agentwatch.ingest.formats import Format, SkipRecord
from agentwatch.ingest.formats.fields import (
    as_json_text,
    block_type,
    check_structure,
    file_stem,
    get_blocks,
    get_dict,
    get_id,
    get_int,
    get_str,
    join_texts,
    load_object,
    quoted,
    without,
)
from agentwatch.ingest.records import DecodedEvent, Location, json_kind, micros_of_text, seq_of

AGENT_PREFIX = "claude-code:"
SPAWN_TOOLS = frozenset({"Task", "Agent"})
# Record types that carry no event (titles, file backups, queue bookkeeping, hook plumbing).
SKIPPED_TYPES = frozenset({
    "summary", "file-history-snapshot", "queue-operation", "last-prompt", "ai-title", "custom-title",
    "progress", "attachment", "agent-setting", "pr-link",
})
SNIFF_TYPES = frozenset({"user", "assistant", "system"}) | SKIPPED_TYPES
# Claude Code's own side chains (housekeeping, not delegation): context compaction and the warmup
# it sent its sub-agent types at start-up (2.0.x).
COMPACTION_AGENT_PREFIX = "acompact-"
WARMUP_PROMPT = "Warmup"
COMMON_KEYS = ("uuid", "parentUuid", "sessionId", "timestamp")
# User text Claude Code writes itself: its reminders, and the output of a command the human ran with
# `!` or a slash command (the human's own `<bash-input>` / `<command-name>` stay prompts).
INJECTED_PREFIXES = ("<system-reminder>", "<bash-stdout>", "<bash-stderr>", "<local-command-stdout>",
                     "<local-command-stderr>")
# A spawned agent's id is read from free-form tool output: anything but a plain token is ignored.
_NOT_ID = re.compile(r"[^\w.-]")


@dataclass(frozen=True)
class _Record:
    """What every event of one record shares."""

    uuid: str
    parent_uuid: str | None
    ts: str
    ts_us: int
    session_id: str
    parent_session_id: str | None
    agent_id: str


def sniff_claude_code(first_record: bytes) -> bool:
    """A Claude Code record: a known `type` with camelCase `sessionId`, or a session title/snapshot."""
    obj = load_object(first_record)
    if obj is None or obj.get("type") not in SNIFF_TYPES:
        return False
    return "sessionId" in obj or "leafUuid" in obj or "messageId" in obj


def decode_claude_code(record: Any, where: Location) -> list[DecodedEvent]:
    """One transcript record into one event per content block."""
    if not isinstance(record, dict):
        raise RecordError(f"expected a JSON object, got {json_kind(record)}")
    kind = record.get("type")
    if not isinstance(kind, str):
        raise RecordError(f"`type`: expected string, got {json_kind(kind)}")
    if kind in SKIPPED_TYPES:
        raise SkipRecord(f"claude code {kind} record")
    decode = _DECODERS.get(kind)
    if decode is None:
        raise RecordError(f"unknown claude code record type {quoted(kind)}")
    check_structure(record)
    rec = _shared_fields(record, where)
    events = decode(record)
    if not events:
        raise SkipRecord(f"claude code {kind} record without content")
    chore = _housekeeping(record, where.source_file)
    if chore is not None:
        _mark_housekeeping(events, chore)
    return [DecodedEvent.of(_complete(event, index, rec)) for index, event in enumerate(events)]


def _shared_fields(record: dict, where: Location) -> _Record:
    ts = get_str(record, "timestamp", required=True)
    session_id = get_id(record, "sessionId", required=True)
    child = _child_session(record, session_id, where.source_file)
    return _Record(
        uuid=get_id(record, "uuid", required=True),
        parent_uuid=get_id(record, "parentUuid"),
        ts=ts,
        ts_us=_micros(ts),
        session_id=child or session_id,
        parent_session_id=session_id if child else None,
        agent_id=AGENT_PREFIX + _project_of(where.source_file, get_str(record, "cwd")),
    )


def _child_session(record: dict, session_id: str, source_file: str) -> str | None:
    if record.get("isSidechain") is not True:
        return None
    agent = get_id(record, "agentId")
    if agent is not None:
        return f"{session_id}/agent-{agent}"
    stem = file_stem(source_file)
    return f"{session_id}/{stem}" if stem.startswith("agent-") else f"{session_id}/sidechain"


def _housekeeping(record: dict, source_file: str) -> str | None:
    """Which of Claude Code's own side chains the record belongs to, if any: compaction (agent id
    `acompact-*`, 2.1.x) or the start-up warmup (the side chain's prompt `Warmup`, 2.0.x)."""
    if record.get("isSidechain") is not True:
        return None
    agent = record.get("agentId")
    agent = agent if isinstance(agent, str) else file_stem(source_file).removeprefix("agent-")
    if agent.startswith(COMPACTION_AGENT_PREFIX):
        return "compaction"
    message = record.get("message")
    if record.get("type") == "user" and isinstance(message, dict) and _only_text(message) == WARMUP_PROMPT:
        return "warmup"
    return None


def _only_text(message: dict) -> str | None:
    """The message's text when it is one text and nothing else."""
    content = message.get("content")
    if isinstance(content, list) and len(content) == 1 and isinstance(content[0], dict):
        content = content[0].get("text") if content[0].get("type") == "text" else None
    return content.strip() if isinstance(content, str) else None


def _mark_housekeeping(events: list[dict[str, Any]], chore: str) -> None:
    """Mark every event of a housekeeping record; what it says to the model is Claude Code's, not a human's."""
    for event in events:
        event["attrs"]["housekeeping"] = chore
        if event["event_type"] == "user_prompt":
            event["event_type"] = "system_prompt"


@lru_cache(maxsize=1024)
def _project_of(source_file: str, cwd: str | None) -> str:
    folders = PurePath(source_file).parts[:-1]
    if "subagents" in folders:
        at = len(folders) - 1 - folders[::-1].index("subagents")
        folders = folders[: max(at - 1, 0)]
    if folders and folders[-1] not in ("", ".", "/"):
        return folders[-1]
    tail = re.split(r"[\\/]", (cwd or "").rstrip("\\/"))[-1]
    return tail or "unknown"


def _micros(ts: str) -> int:
    """Microseconds since the epoch, parsed by the same rules as `normalize_event`."""
    try:
        return micros_of_text(ts)
    except RecordError as exc:
        raise RecordError(exc.message.replace("`ts`", "`timestamp`", 1)) from exc


def _complete(event: dict[str, Any], index: int, rec: _Record) -> dict[str, Any]:
    event.update(
        event_id=f"{rec.uuid}:{index}",
        ts=rec.ts,
        seq=seq_of(rec.ts_us, index),
        agent_id=rec.agent_id,
        session_id=rec.session_id,
        parent_session_id=rec.parent_session_id,
        span_id=rec.uuid,
        parent_span_id=rec.parent_uuid,
    )
    return event


def _user_events(record: dict) -> list[dict[str, Any]]:
    message = get_dict(record, "message", required=True)
    injected = record.get("isMeta") is True or record.get("isCompactSummary") is True
    events = [_user_block(block, path, injected) for block, path in _blocks_of(message)]
    child = _spawned_child(record)
    shared = _record_attrs(record, message)
    for event in events:
        event["attrs"] = {**shared, **event["attrs"]}
        if child and event["event_type"] == "tool_result":
            event["attrs"]["child_session_id"] = child
    return events


def _assistant_events(record: dict) -> list[dict[str, Any]]:
    message = get_dict(record, "message", required=True)
    model = get_str(message, "model", "message.")
    events = [_assistant_block(block, path) for block, path in _blocks_of(message)]
    shared = _record_attrs(record, message)
    for event in events:
        event["model"] = model
        event["attrs"] = {**shared, **event["attrs"]}
        if record.get("isApiErrorMessage") is True:
            event.update(event_type="error", status="error")
    if events:
        events[0].update(_tokens(get_dict(message, "usage", "message.")))
    return events


def _system_events(record: dict) -> list[dict[str, Any]]:
    is_error = record.get("level") == "error" or record.get("subtype") == "api_error"
    return [{
        "event_type": "error" if is_error else "system_prompt",
        "status": "error" if is_error else None,
        "text": get_str(record, "content"),
        "tool_call_id": get_id(record, "toolUseID"),
        "attrs": without(record, *COMMON_KEYS, "content", "toolUseID"),
    }]


_DECODERS: dict[str, Callable[[dict], list[dict[str, Any]]]] = {
    "user": _user_events,
    "assistant": _assistant_events,
    "system": _system_events,
}


def _blocks_of(message: dict) -> list[tuple[dict, str | None]]:
    """(block, path) pairs; a string content is one text block with no path."""
    content = message.get("content")
    if isinstance(content, str):
        return [({"type": "text", "text": content}, None)]
    if not isinstance(content, list):
        raise RecordError(f"`message.content`: expected string or array, got {json_kind(content)}")
    blocks = get_blocks(content, "message.content")
    return [(block, f"message.content[{i}]") for i, block in enumerate(blocks)]


def _user_block(block: dict, path: str | None, injected: bool) -> dict[str, Any]:
    kind = block_type(block, path or "message.content")
    if kind == "tool_result":
        return _tool_result(block, path)
    prompt = "system_prompt" if injected else "user_prompt"
    if kind == "text":
        text = get_str(block, "text", f"{path}.")
        if text is not None and text.lstrip().startswith(INJECTED_PREFIXES):
            prompt = "system_prompt"
        return _event(prompt, block, path, "text", text=text)
    if kind in ("image", "document"):
        return _event(prompt, block, path)
    return _event(kind, block, path)


def _assistant_block(block: dict, path: str | None) -> dict[str, Any]:
    kind = block_type(block, path or "message.content")
    if kind == "text":
        return _event("llm_response", block, path, "text", text=get_str(block, "text", f"{path}."))
    if kind == "thinking":
        return _event("reasoning", block, path, "thinking", text=get_str(block, "thinking", f"{path}."))
    if kind == "redacted_thinking":
        return _event("reasoning", block, path)
    if kind in ("tool_use", "server_tool_use"):
        return _tool_use(block, path)
    if kind.endswith("_tool_result"):
        return _tool_result(block, path)
    return _event(kind, block, path)


def _tool_use(block: dict, path: str | None) -> dict[str, Any]:
    name = get_str(block, "name", f"{path}.", required=True)
    args = block.get("input")
    spawn = name in SPAWN_TOOLS
    prompt = args.get("prompt") if spawn and isinstance(args, dict) else None
    return _event(
        "agent_spawn" if spawn else "tool_call", block, path, "id", "name", "input",
        tool_name=name,
        tool_call_id=get_id(block, "id", f"{path}.", required=True),
        tool_args=None if args is None else as_json_text(args),
        text=prompt if isinstance(prompt, str) else None,
    )


def _tool_result(block: dict, path: str | None) -> dict[str, Any]:
    failed = block.get("is_error")
    if failed is not None and not isinstance(failed, bool):
        raise RecordError(f"`{path}.is_error`: expected boolean, got {json_kind(failed)}")
    content = block.get("content")
    event = _event(
        "tool_result", block, path, "tool_use_id", "content", "is_error",
        tool_call_id=get_id(block, "tool_use_id", f"{path}.", required=True),
        text=join_texts(content, f"{path}.content"),
        status="error" if failed else "ok",
    )
    if isinstance(content, list):
        other = [item for item in content if item.get("type") != "text"]
        if other:
            event["attrs"]["block"]["content"] = other
    return event


def _event(event_type: str, block: dict, path: str | None, *mapped: str, **columns: Any) -> dict[str, Any]:
    attrs = {} if path is None else {"block": without(block, *mapped)}
    return {"event_type": event_type, **columns, "attrs": attrs}


def _record_attrs(record: dict, message: dict) -> dict[str, Any]:
    return {**without(record, *COMMON_KEYS, "message"), "message": without(message, "content", "model")}


def _spawned_child(record: dict) -> str | None:
    if record.get("isSidechain") is True:
        return None
    result = record.get("toolUseResult")
    agent = (result if isinstance(result, dict) and "agentId" in result else record).get("agentId")
    if not isinstance(agent, str) or not agent or _NOT_ID.search(agent):
        return None
    return f"{record['sessionId']}/agent-{agent}"


def _tokens(usage: dict | None) -> dict[str, int | None]:
    if usage is None:
        return {}
    parts = [get_int(usage, key, "message.usage.") for key in
             ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")]
    known = [n for n in parts if n is not None]
    return {
        "input_tokens": sum(known) if known else None,
        "output_tokens": get_int(usage, "output_tokens", "message.usage."),
    }


FORMAT = Format(name="claude_code", sniff=sniff_claude_code, decode=decode_claude_code)
