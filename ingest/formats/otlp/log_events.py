"""Which canonical events one OTLP log record is, by the agent that logged it.

Claude Code (`claude_code.*`, docs "Monitoring usage"; every event carries `session.id`, `prompt.id`,
`event.sequence`, `user.email`/`user.id`):
- user_prompt -> `user_prompt` (text = `prompt`, logged only with OTEL_LOG_USER_PROMPTS=1);
- api_request -> `llm_response` without text: `model`, input = input + cache_read + cache_creation
  tokens (as the transcripts count), output tokens; cost and duration stay in attrs;
- api_error -> `error` (`error`, `status_code`); tool_result -> a `tool_call` at its start (time minus
  `duration_ms`) and a `tool_result` (`tool_name`, `tool_use_id`, `tool_parameters`/`tool_input`,
  `success`); tool_decision -> `approval` when a human accepted (source `user_*`), `error` when
  rejected, else (accepted by config or hook: no human) kept as `unknown`.
Codex CLI (`codex.*`, `[otel]` in config.toml; every event carries `conversation.id`, `model`):
- conversation_starts -> `system_prompt` naming the approval and sandbox policy; user_prompt ->
  `user_prompt` (text unless Codex wrote `[REDACTED]`); tool_decision as above (`approved*` by source
  `user` -> `approval`; `denied`/`abort` -> `error`); tool_result -> `tool_call` + `tool_result`
  (`tool_name`, `call_id`, `arguments`, `output`, `success`); sse_event `response.completed` ->
  `llm_response` with `input_token_count`/`output_token_count`; an api_request or sse_event with
  `error.message` -> `error`.
OTel GenAI log events: gen_ai.user/system/assistant/tool.message and gen_ai.choice as their roles,
gen_ai.client.inference.operation.details by its input/output messages.
Any other log record is one event named by the log (`unknown`, its name in attrs): evidence is kept.

Identity: agent = `gen_ai.agent.id`/`gen_ai.agent.name`, else `claude-code` / `codex` for those
agents, else the resource's `service.name`; session = `session.id`, `conversation.id`,
`gen_ai.conversation.id`, else the record's trace id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from agentwatch.errors import RecordError
from agentwatch.ingest.formats.otlp.genai_messages import as_text, conversation_parts, parse_messages
from agentwatch.ingest.formats.otlp.values import first_str, service_name
from agentwatch.ingest.records import json_kind

if TYPE_CHECKING:
    from agentwatch.ingest.formats.otlp.logs import LogRecord

AGENT_KEYS = ("gen_ai.agent.id", "gen_ai.agent.name")
SESSION_KEYS = ("session.id", "conversation.id", "gen_ai.conversation.id")
FAMILIES = {"claude_code": "claude-code", "codex": "codex"}
GENAI_ROLES = {"gen_ai.user.message": "user_prompt", "gen_ai.system.message": "system_prompt",
               "gen_ai.tool.message": "tool_result"}
INPUT, OUTPUT = "gen_ai.input.messages", "gen_ai.output.messages"


@dataclass
class MappedLog:
    """The events of one log record and what of it they used."""

    agent_id: str
    session_id: str
    parts: list[dict[str, Any]] = field(default_factory=list)  # event_type, time_ns, columns, attrs
    consumed: set[str] = field(default_factory=set)
    body_consumed: bool = False


def map_log_record(log: LogRecord) -> MappedLog:
    """The events of one log record, by the family its name says."""
    family = log.name.split(".", 1)[0] if "." in log.name else ""
    mapped = MappedLog(*_identity(log, family))
    short = log.name.split(".", 1)[1] if family in FAMILIES else log.name
    mapper = _MAPPERS.get(family, {}).get(short) if family in FAMILIES else _GENAI.get(log.name)
    if mapper is not None:
        mapper(log, mapped)
    if not mapped.parts:
        text = log.body if isinstance(log.body, str) and log.body != log.name else None
        mapped.body_consumed = text is not None
        mapped.parts.append({"event_type": log.name or "log", "time_ns": log.time_ns, "text": text})
    return mapped


def _identity(log: LogRecord, family: str) -> tuple[str, str]:
    a = log.attributes
    agent = first_str(a, AGENT_KEYS)[1] or FAMILIES.get(family) or service_name(log.resource)
    session = first_str(a, SESSION_KEYS)[1] or log.trace_id
    if agent is None:
        raise RecordError("attributes: no agent identity (gen_ai.agent.*, a known agent, resource service.name)")
    if session is None:
        raise RecordError("attributes: no session identity (session.id, conversation.id, "
                          "gen_ai.conversation.id or a trace id)")
    return agent, session


def _str(a: dict[str, Any], key: str) -> str | None:
    value = a.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    return str(value)


def _int(a: dict[str, Any], key: str) -> int | None:
    """A count: exporters write numbers as ints, doubles or digit strings; anything else is refused."""
    value = a.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise RecordError(f"attributes[{key!r}]: expected a whole number, got {json_kind(value)}")


def _millis(a: dict[str, Any], key: str) -> float:
    """A duration in ms (a number, or its text; fractions allowed); 0 when absent or unreadable,
    since it only places a tool call's start, and the raw value stays in attrs."""
    value = a.get(key)
    if isinstance(value, bool):
        return 0.0
    try:
        millis = float(value) if isinstance(value, (int, float, str)) else 0.0
    except ValueError:
        return 0.0
    return millis if 0 <= millis < 1e12 else 0.0


def _truth(a: dict[str, Any], key: str) -> bool | None:
    value = a.get(key)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise RecordError(f"attributes[{key!r}]: expected true or false, got {json_kind(value)}")


def _actor(a: dict[str, Any]) -> str | None:
    return _str(a, "user.email") or _str(a, "user.id") or _str(a, "user.account_uuid")


def _prompt(log: LogRecord, m: MappedLog, key: str = "prompt") -> None:
    text = _str(log.attributes, key)
    m.consumed.add(key)
    if text == "[REDACTED]":  # Codex's stand-in when prompts are not logged
        text = None
    m.parts.append({"event_type": "user_prompt", "time_ns": log.time_ns, "text": text,
                    "actor": _actor(log.attributes)})


def _tool_pair(log: LogRecord, m: MappedLog, *, name: str, call_id: str, args: tuple[str, ...],
               output: str | None, success: str, model: str | None = None) -> None:
    a = log.attributes
    duration = _millis(a, "duration_ms")
    arg_key = next((k for k in args if a.get(k) is not None), None)
    common = {"tool_name": _str(a, name), "tool_call_id": _str(a, call_id)}
    ok = _truth(a, success)
    m.consumed.update({name, call_id, success, *(k for k in (arg_key, output) if k)})
    m.parts.append({**common, "event_type": "tool_call", "time_ns": max(log.time_ns - int(duration * 1_000_000), 0),
                    "tool_args": _str(a, arg_key) if arg_key else None, "model": model})
    m.parts.append({**common, "event_type": "tool_result", "time_ns": log.time_ns,
                    "text": _str(a, output) if output else None,
                    "status": None if ok is None else ("ok" if ok else "error")})


def _decision(log: LogRecord, m: MappedLog, *, call_id: str, human: bool, accepted: bool, rejected: bool) -> None:
    a = log.attributes
    common = {"tool_name": _str(a, "tool_name"), "tool_call_id": _str(a, call_id), "time_ns": log.time_ns}
    m.consumed.update({"tool_name", call_id})
    if accepted and human:
        m.parts.append({**common, "event_type": "approval", "actor": _actor(a)})
    elif rejected:
        text = f"tool use rejected ({_str(a, 'source') or 'unknown source'})"
        m.parts.append({**common, "event_type": "error", "status": "error", "text": text})
    else:
        m.parts.append({**common, "event_type": log.name})


def _cc_api_request(log: LogRecord, m: MappedLog) -> None:
    a = log.attributes
    parts = [_int(a, k) for k in ("input_tokens", "cache_read_tokens", "cache_creation_tokens")]
    known = [n for n in parts if n is not None]
    m.consumed.update({"model", "input_tokens", "output_tokens"})
    m.parts.append({"event_type": "llm_response", "time_ns": log.time_ns, "model": _str(a, "model"),
                    "input_tokens": sum(known) if known else None, "output_tokens": _int(a, "output_tokens")})


def _cc_api_error(log: LogRecord, m: MappedLog) -> None:
    m.consumed.update({"error", "model"})
    m.parts.append({"event_type": "error", "time_ns": log.time_ns, "status": "error",
                    "text": _str(log.attributes, "error"), "model": _str(log.attributes, "model")})


def _cc_tool_result(log: LogRecord, m: MappedLog) -> None:
    _tool_pair(log, m, name="tool_name", call_id="tool_use_id", args=("tool_input", "tool_parameters"),
               output=None, success="success")


def _cc_tool_decision(log: LogRecord, m: MappedLog) -> None:
    decision, source = _str(log.attributes, "decision"), _str(log.attributes, "source") or ""
    _decision(log, m, call_id="tool_use_id", human=source.startswith("user"),
              accepted=decision == "accept", rejected=decision == "reject")


def _codex_starts(log: LogRecord, m: MappedLog) -> None:
    a = log.attributes
    text = f"conversation starts: approval_policy={_str(a, 'approval_policy')}, " \
           f"sandbox_policy={_str(a, 'sandbox_policy')}"
    m.parts.append({"event_type": "system_prompt", "time_ns": log.time_ns, "text": text})


def _codex_tool_result(log: LogRecord, m: MappedLog) -> None:
    _tool_pair(log, m, name="tool_name", call_id="call_id", args=("arguments",), output="output",
               success="success", model=_str(log.attributes, "model"))


def _codex_tool_decision(log: LogRecord, m: MappedLog) -> None:
    decision = (_str(log.attributes, "decision") or "").lower()
    _decision(log, m, call_id="call_id", human=_str(log.attributes, "source") == "user",
              accepted=decision.startswith("approved"), rejected=decision in ("denied", "abort"))


def _codex_sse(log: LogRecord, m: MappedLog) -> None:
    a = log.attributes
    if _str(a, "error.message"):
        _codex_error(log, m)
    elif _str(a, "event.kind") == "response.completed":
        m.consumed.update({"input_token_count", "output_token_count"})
        m.parts.append({"event_type": "llm_response", "time_ns": log.time_ns, "model": _str(a, "model"),
                        "input_tokens": _int(a, "input_token_count"), "output_tokens": _int(a, "output_token_count")})


def _codex_error(log: LogRecord, m: MappedLog) -> None:
    if _str(log.attributes, "error.message"):
        m.consumed.add("error.message")
        m.parts.append({"event_type": "error", "time_ns": log.time_ns, "status": "error",
                        "text": _str(log.attributes, "error.message")})


def _genai_role(log: LogRecord, m: MappedLog) -> None:
    body = log.body if isinstance(log.body, dict) else {"content": log.body}
    event_type = GENAI_ROLES[log.name]
    m.body_consumed = True
    m.parts.append({"event_type": event_type, "time_ns": log.time_ns, "text": as_text(body.get("content")),
                    "tool_call_id": _str(body, "id") if event_type == "tool_result" else None,
                    "attrs": {"body": {k: v for k, v in body.items() if k not in ("content", "id")}}})


def _genai_choice(log: LogRecord, m: MappedLog) -> None:
    body = log.body if isinstance(log.body, dict) else {"content": log.body}
    message = body.get("message") if isinstance(body.get("message"), dict) else body
    model = _str(log.attributes, "gen_ai.response.model") or _str(log.attributes, "gen_ai.request.model")
    m.body_consumed = True
    m.parts.append({"event_type": "llm_response", "time_ns": log.time_ns, "model": model,
                    "text": as_text(message.get("content"))})
    for call in message.get("tool_calls") or []:
        function = call.get("function") if isinstance(call, dict) and isinstance(call.get("function"), dict) else {}
        m.parts.append({"event_type": "tool_call", "time_ns": log.time_ns, "model": model,
                        "tool_name": _str(function, "name"), "tool_args": _str(function, "arguments"),
                        "tool_call_id": _str(call, "id") if isinstance(call, dict) else None})


def _genai_details(log: LogRecord, m: MappedLog) -> None:
    a = log.attributes
    inputs = parse_messages(a[INPUT], f"attributes[{INPUT!r}]", log.time_ns, INPUT) if INPUT in a else []
    outputs = parse_messages(a[OUTPUT], f"attributes[{OUTPUT!r}]", log.time_ns, OUTPUT) if OUTPUT in a else []
    parts, _ = conversation_parts(inputs, outputs, [])
    m.consumed.update(k for k in (INPUT, OUTPUT) if k in a)
    model = _str(a, "gen_ai.response.model") or _str(a, "gen_ai.request.model")
    for part in parts:
        if part["event_type"] in ("llm_response", "reasoning", "tool_call"):
            part["model"] = model
        part["attrs"] = {"source": part.pop("source", "log"), **({"part": part.pop("part")} if "part" in part else {})}
    m.parts.extend(parts)


_MAPPERS = {
    "claude_code": {"user_prompt": _prompt, "api_request": _cc_api_request, "api_error": _cc_api_error,
                    "tool_result": _cc_tool_result, "tool_decision": _cc_tool_decision},
    "codex": {"conversation_starts": _codex_starts, "user_prompt": _prompt, "tool_result": _codex_tool_result,
              "tool_decision": _codex_tool_decision, "sse_event": _codex_sse, "api_request": _codex_error},
}
_GENAI = {**dict.fromkeys(GENAI_ROLES, _genai_role), "gen_ai.choice": _genai_choice,
          "gen_ai.assistant.message": _genai_choice,
          "gen_ai.client.inference.operation.details": _genai_details}
