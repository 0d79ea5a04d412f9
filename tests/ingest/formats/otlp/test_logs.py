"""OTLP logs: the agents' own OpenTelemetry events (Claude Code, Codex CLI, OTel GenAI) decode to exact
events, land in the lake once, with secrets masked, and a record that is not a logs request is
quarantined with its reason."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson

from agentwatch.ingest.formats import detect_format
from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.lake import Lake
from tests.ingest.sanitize.test_redact import SECRETS
from tests.support.otlp_builders import decode, kv
from tests.support.paths import FIXTURES

FIXTURES = FIXTURES / "otlp"
CLAUDE_SESSION = "b1e8c6d2-5a4f-4c3b-9e21-7d0f6a5b4c31"
CODEX_SESSION = "019ada3c-5f2e-7a10-b3c4-d5e6f7a8b9c0"
COLUMNS = ("event_type", "agent_id", "model", "tool_name", "tool_call_id", "text", "input_tokens",
           "output_tokens", "status", "actor")
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes().strip()


def project(row: dict) -> tuple:
    return tuple(row[c] for c in COLUMNS)


CLAUDE_GOLDEN = [
    ("user_prompt", "claude-code", None, None, None, "fix the failing test in pricing", None, None, None,
     "dev@example.com"),
    # usage counts the whole prompt, cache included, as the transcripts do
    ("llm_response", "claude-code", "claude-sonnet-4-5-20250929", None, None, None, 15812, 220, None, None),
    ("approval", "claude-code", None, "Bash", "toolu_01A", None, None, None, None, "dev@example.com"),
    ("tool_call", "claude-code", None, "Bash", "toolu_01A", None, None, None, None, None),
    ("tool_result", "claude-code", None, "Bash", "toolu_01A", None, None, None, "ok", None),
    ("error", "claude-code", None, "Write", "toolu_01B", "tool use rejected (user_reject)", None, None, "error", None),
    ("unknown", "claude-code", None, "Read", "toolu_01C", None, None, None, None, None),  # accepted by config
    ("tool_call", "claude-code", None, "Read", "toolu_01C", None, None, None, None, None),
    ("tool_result", "claude-code", None, "Read", "toolu_01C", None, None, None, "error", None),
    ("error", "claude-code", "claude-sonnet-4-5-20250929", None, None, "Request timed out", None, None, "error", None),
]

CODEX_GOLDEN = [
    ("system_prompt", "codex", None, None, None,
     "conversation starts: approval_policy=on-request, sandbox_policy=workspace-write", None, None, None, None),
    ("user_prompt", "codex", None, None, None, "clean up the build folder", None, None, None, "dev@example.com"),
    ("unknown", "codex", None, None, None, None, None, None, None, None),  # api_request that succeeded
    ("unknown", "codex", None, None, None, None, None, None, None, None),  # a streamed delta
    ("llm_response", "codex", "gpt-5-codex", None, None, None, 9120, 310, None, None),
    ("approval", "codex", None, "shell", "call_Xy1", None, None, None, None, "dev@example.com"),
    ("tool_call", "codex", "gpt-5-codex", "shell", "call_Xy1", None, None, None, None, None),
    ("tool_result", "codex", None, "shell", "call_Xy1", "Exit code: 0\nWall time: 0.2 seconds\nOutput:\n", None, None,
     "ok", None),
    ("error", "codex", None, "shell", "call_Xy2", "tool use rejected (user)", None, None, "error", None),
    ("error", "codex", None, None, None, "stream disconnected before completion", None, None, "error", None),
]


def test_claude_code_log_events_decode_to_exact_events() -> None:
    rows = decode(fixture("claude_code_logs.jsonl"), fmt="otlp_logs")
    assert [project(r) for r in rows] == CLAUDE_GOLDEN
    assert {r["session_id"] for r in rows} == {CLAUDE_SESSION}
    assert rows[3]["tool_args"] == '{"bash_command":"pytest","full_command":"pytest -q tests/test_pricing.py"}'
    assert rows[3]["ts"] == datetime(2025, 12, 1, 14, 0, 4, tzinfo=UTC)  # its result's time minus duration_ms
    assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)
    attrs = orjson.loads(rows[1]["attrs"])
    assert attrs["cost_usd"] == "0.0123" and attrs["prompt.id"] == "p-1" and attrs["event.sequence"] == 1
    assert attrs["log"]["name"] == "claude_code.api_request"
    assert attrs["resource"]["service.version"] == "2.0.14"
    assert orjson.loads(rows[6]["attrs"])["source_event_type"] == "claude_code.tool_decision"


def test_codex_log_events_decode_to_exact_events() -> None:
    rows = decode(fixture("codex_logs.jsonl"), fmt="otlp_logs")
    assert [project(r) for r in rows] == CODEX_GOLDEN
    assert {r["session_id"] for r in rows} == {CODEX_SESSION}
    assert rows[6]["tool_args"] == '{"command":["bash","-lc","rm -rf build"]}'
    attrs = orjson.loads(rows[4]["attrs"])
    assert attrs["cached_token_count"] == "8000" and attrs["log"]["severityText"] == "INFO"


def test_logs_files_are_recognized_and_land_once(lake: Path, tmp_path: Path) -> None:
    path = tmp_path / "collector-logs.jsonl"
    path.write_bytes(fixture("claude_code_logs.jsonl") + b"\n" + fixture("codex_logs.jsonl") + b"\n")
    assert detect_format(fixture("codex_logs.jsonl")).name == "otlp_logs"
    first = ingest_paths(lake, [path], now=NOW).files[0]
    assert (first.format, first.records_read, first.events_written) == ("otlp_logs", 2, 20)
    assert first.items_decoded == 8 + 9  # the log records of both requests, 20 events between them
    resent = tmp_path / "resent.jsonl"  # the same export retried, e.g. in another Collector file
    resent.write_bytes(fixture("codex_logs.jsonl") + b"\n")
    again = ingest_paths(lake, [resent], now=NOW).files[0]
    assert (again.events_written, again.duplicates) == (0, 10)
    assert Lake(lake).connect().execute("select count(distinct session_id) from events").fetchall() == [(2,)]


def log_request(*records: dict, service: str = "my-agent") -> dict:
    return {"resourceLogs": [{"resource": {"attributes": kv({"service.name": service})},
                              "scopeLogs": [{"scope": {"name": "test"}, "logRecords": list(records)}]}]}


def genai_log(name: str, body: dict, **attrs: object) -> dict:
    return {"timeUnixNano": "1767225600000000000", "eventName": name,
            "traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "00f067aa0ba902b7",
            "body": {"kvlistValue": {"values": kv(body)}}, "attributes": kv(dict(attrs))}


def test_generic_genai_log_events_map_by_role() -> None:
    request = log_request(
        genai_log("gen_ai.system.message", {"content": "Be brief."}, **{"gen_ai.conversation.id": "c-1"}),
        genai_log("gen_ai.user.message", {"content": "Refund order 9"}, **{"gen_ai.conversation.id": "c-1"}),
        genai_log("gen_ai.choice", {"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "tool_calls": [{"id": "call_1", "type": "function",
                                                 "function": {"name": "refund", "arguments": '{"order": 9}'}}]}},
                  **{"gen_ai.conversation.id": "c-1", "gen_ai.response.model": "gpt-4o"}),
        genai_log("gen_ai.tool.message", {"content": "refunded", "id": "call_1"}),  # no conversation: the trace
    )
    rows = decode(request, fmt="otlp_logs")
    assert [(r["event_type"], r["session_id"], r["model"], r["tool_name"], r["tool_call_id"], r["text"])
            for r in rows] == [
        ("system_prompt", "c-1", None, None, None, "Be brief."),
        ("user_prompt", "c-1", None, None, None, "Refund order 9"),
        ("llm_response", "c-1", "gpt-4o", None, None, None),
        ("tool_call", "c-1", "gpt-4o", "refund", "call_1", None),
        ("tool_result", "4bf92f3577b34da6a3ce929d0e0e4736", None, None, "call_1", "refunded"),
    ]
    assert {r["agent_id"] for r in rows} == {"my-agent"}


def test_a_plain_application_log_is_kept_as_unknown_with_its_text() -> None:
    record = {"timeUnixNano": "1767225600000000000", "body": {"stringValue": "disk almost full"},
              "traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "severityText": "WARN"}
    (row,) = decode(log_request(record), fmt="otlp_logs")
    assert (row["event_type"], row["text"], row["flags"]) == ("unknown", "disk almost full", ["unknown_event_type"])


def test_the_resource_schema_url_and_dropped_counts_are_kept() -> None:
    record = {"timeUnixNano": "1767225600000000000", "body": {"stringValue": "hi"},
              "traceId": "4bf92f3577b34da6a3ce929d0e0e4736"}
    request = log_request(record)
    request["resourceLogs"][0]["schemaUrl"] = "https://opentelemetry.io/schemas/1.26.0"
    request["resourceLogs"][0]["resource"]["droppedAttributesCount"] = 2
    (row,) = decode(request, fmt="otlp_logs")
    assert orjson.loads(row["attrs"])["log"]["resource_fields"] == {
        "droppedAttributesCount": 2, "schemaUrl": "https://opentelemetry.io/schemas/1.26.0"}


def test_a_log_without_session_or_trace_and_a_native_record_are_quarantined(lake: Path, tmp_path: Path) -> None:
    orphan = log_request({"timeUnixNano": "1767225600000000000", "body": {"stringValue": "hi"}})
    native = {"ts": "2026-01-01T00:00:00Z", "agent_id": "a", "session_id": "s", "event_type": "user_prompt"}
    path = tmp_path / "logs.jsonl"
    path.write_bytes(orjson.dumps(orphan) + b"\n" + orjson.dumps(native) + b"\n")
    report = ingest_paths(lake, [path], fmt="otlp_logs", now=NOW).files[0]
    assert (report.records_read, report.quarantined, report.events_written, report.reconciles()) == (2, 2, 0, True)
    reasons = sorted(r for (r,) in Lake(lake).connect().execute("select reason from quarantine").fetchall())
    assert reasons == [
        "not an OTLP logs export request: no `resourceLogs`",
        "resourceLogs[0].scopeLogs[0].logRecords[0]: attributes: no session identity (session.id, "
        "conversation.id, gen_ai.conversation.id or a trace id)",
    ]


def test_secrets_in_log_attributes_are_masked_before_storage(lake: Path, tmp_path: Path) -> None:
    secret, context = SECRETS["github_token"]
    record = orjson.loads(fixture("claude_code_logs.jsonl"))
    logs = record["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
    logs[0]["attributes"].append({"key": "prompt", "value": {"stringValue": context.format(secret)}})
    logs[3]["attributes"].append({"key": "tool_input", "value": {"stringValue": f'{{"env": "{secret}"}}'}})
    path = tmp_path / "logs.jsonl"
    path.write_bytes(orjson.dumps(record) + b"\n")
    ingest_paths(lake, [path], now=NOW)
    for file in (lake / "events").rglob("*.parquet"):
        assert secret.encode() not in file.read_bytes()
    masked = Lake(lake).connect().execute("select sum(redactions) from events").fetchall()[0][0]
    assert masked >= 2


def test_a_fractional_or_odd_duration_only_moves_the_call_to_its_result() -> None:
    base = {"session.id": "s", "event.name": "tool_result", "tool_name": "Bash", "success": True}
    records = [{"timeUnixNano": "1767225600000000000", "body": {"stringValue": "claude_code.tool_result"},
                "attributes": kv({**base, "duration_ms": duration})} for duration in (1500.5, "n/a")]
    rows = decode(log_request(*records, service="claude-code"), fmt="otlp_logs")
    starts = [r["ts"] for r in rows if r["event_type"] == "tool_call"]
    assert starts == [datetime(2025, 12, 31, 23, 59, 58, 499500, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)]
    assert [r["status"] for r in rows if r["event_type"] == "tool_result"] == ["ok", "ok"]
