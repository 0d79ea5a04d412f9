"""The bulk OTLP logs decoder (`ingest.formats.otlp.fast.logs`) against the per-record path: for every line
the bulk path decodes, the same events row for row (ids, seq, attrs text, flags, every column); every
line it declines goes to the per-record path; and whole ingests agree file for file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pytest

from agentwatch.errors import RecordError
from agentwatch.ingest import decode as decode_module
from agentwatch.ingest.decode import decode_line
from agentwatch.ingest.formats import get_format
from agentwatch.ingest.formats.otlp.fast import files as files_module
from agentwatch.ingest.formats.otlp.fast.logs import decode_otlp_logs_fast
from agentwatch.ingest.formats.otlp.fast.traces import PreparedLines
from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.ingest.records import Location
from agentwatch.schema import EVENT_SCHEMA
from tests.ingest.formats.otlp.test_fast_traces import both_ways as compare_both_ways
from tests.ingest.formats.otlp.test_fast_traces import lake_rows
from tests.support.otlp_builders import BASE_NS, NOW, kv
from tests.support.paths import FIXTURES

FIXTURES = FIXTURES / "otlp"
DROP = object()  # a field left out of a built record


def both_ways(lines: list[bytes]) -> set[int]:
    """The trace test's comparison (every column of every event) with the logs decoder."""
    return compare_both_ways(lines, decode_otlp_logs_fast, "otlp_logs", "logs.jsonl")


def test_claude_code_fixture_decodes_in_bulk_exactly_as_one_by_one() -> None:
    lines = (FIXTURES / "claude_code_logs.jsonl").read_bytes().splitlines()
    assert both_ways(lines) == {1}


def log_record(name: str, attributes: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A Claude Code log record at BASE_NS named `claude_code.<name>`; `fields` override or add raw fields."""
    attrs = {"session.id": "s-1", "user.email": "dev@example.com", "event.name": name, **(attributes or {})}
    record = {"timeUnixNano": str(BASE_NS), "observedTimeUnixNano": str(BASE_NS + 5),
              "body": {"stringValue": f"claude_code.{name}"}, "attributes": kv(attrs)}
    return {key: v for key, v in {**record, **fields}.items() if v is not DROP}


def logs_request(*records: dict[str, Any], resource: dict[str, Any] | None = None,
                 scope: dict[str, Any] | None = None) -> bytes:
    """One ExportLogsServiceRequest line."""
    res = {"service.name": "claude-code", "host.arch": "amd64"} if resource is None else resource
    sc = {"name": "com.anthropic.claude_code.events", "version": "2.0.14"} if scope is None else scope
    return orjson.dumps({"resourceLogs": [{"resource": {"attributes": kv(res)},
                                           "scopeLogs": [{"scope": sc, "logRecords": list(records)}]}]})


def codex(name: str, attributes: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A Codex CLI log record at BASE_NS named `codex.<name>` by its event.name attribute, without a body."""
    attrs = {"conversation.id": "conv-1", "event.name": f"codex.{name}", "model": "gpt-5-codex",
             **(attributes or {})}
    return {**log_record(name, **{"body": DROP, **fields}), "attributes": kv(attrs)}


TOOL = {"tool_name": "Bash", "tool_use_id": "toolu_1", "success": "true", "duration_ms": "1500",
        "tool_parameters": '{"bash_command":"pytest"}'}
BULK = [  # lines the bulk path must take
    logs_request(log_record("user_prompt", {"prompt": "fix the test", "prompt_length": 12})),
    logs_request(log_record("user_prompt", {"prompt": "[REDACTED]", "user.email": "", "user.id": "u1"})),
    logs_request(log_record("user_prompt", {"prompt": "tab\t nl\n quote\" é ☃ \x1b esc"})),
    logs_request(log_record("api_request", {"model": "claude-x", "input_tokens": "12", "output_tokens": 7,
                                            "cache_read_tokens": "100", "cost_usd": 0.0123,
                                            "ratio": 1.0, "neg": -2.5, "big": 12345678901234.0})),
    logs_request(log_record("api_request", {"model": "claude-x"})),
    logs_request(log_record("api_error", {"model": "m", "error": "Request timed out", "status_code": "undefined"})),
    logs_request(log_record("tool_result", TOOL)),
    logs_request(log_record("tool_result", {**TOOL, "success": False, "duration_ms": 0.25, "tool_input": "x"})),
    logs_request(log_record("tool_result", {**TOOL, "success": "FALSE", "duration_ms": "2.5"})),
    logs_request(log_record("tool_result", {**TOOL, "duration_ms": -4, "retries": 3, "ok": True})),
    logs_request(log_record("tool_result", {"tool_name": "Read", "duration_ms": "99999999999999"})),
    logs_request(log_record("tool_decision", {"tool_name": "Bash", "tool_use_id": "t", "decision": "accept",
                                              "source": "user_temporary"})),
    logs_request(log_record("tool_decision", {"tool_name": "Bash", "decision": "reject", "source": "user_reject"})),
    logs_request(log_record("tool_decision", {"tool_name": "Bash", "decision": "reject"})),
    logs_request(log_record("tool_decision", {"tool_name": "Read", "decision": "accept", "source": "config"})),
    logs_request(log_record("user_prompt", {"prompt": "p"}, timeUnixNano="0")),  # observed time
    logs_request(log_record("user_prompt", {"prompt": "p"}, timeUnixNano=int(BASE_NS), observedTimeUnixNano=DROP)),
    logs_request(log_record("user_prompt", {"prompt": "p"}, severityNumber=9, severityText="INFO",
                            traceId="4BF92F3577B34DA6A3CE929D0E0E4736", spanId="00F067AA0BA902B7")),
    logs_request(log_record("user_prompt", {"prompt": "p"}, body=DROP, eventName="claude_code.user_prompt")),
    logs_request(log_record("user_prompt", {"session.id": "", "prompt": "p"},
                            traceId="4bf92f3577b34da6a3ce929d0e0e4736")),
    logs_request(log_record("user_prompt", {"prompt": "p"}, timeUnixNano=str(BASE_NS * 2))),  # future
    logs_request(log_record("user_prompt"), log_record("api_request", {"model": "m"}), resource={}, scope={}),
    logs_request(log_record("user_prompt"), resource={"service.name": "cc", "n": 3, "b": False, "d": 2.5,
                                                      "zé": "x", "A": "y"}),
    logs_request(log_record("user_prompt", {"prompt": "p"})).replace(b'"prompt"', b'"pro\\u006dpt"'),
    logs_request(codex("conversation_starts", {"approval_policy": "on-request"})),
    logs_request(codex("user_prompt", {"prompt": "[REDACTED]"}), codex("api_request", {"attempt": "1"})),
    logs_request(codex("api_request", {"error.message": "stream disconnected", "duration_ms": "3"})),
    logs_request(codex("sse_event", {"event.kind": "response.output_text.delta"}, body={"stringValue": "delta"})),
    logs_request(codex("sse_event", {"event.kind": "response.completed", "input_token_count": "9120",
                                     "output_token_count": 310})),
    logs_request(codex("sse_event", {"event.kind": "response.completed", "error.message": "boom"})),
    logs_request(codex("tool_decision", {"tool_name": "shell", "call_id": "c1", "decision": "Approved_for_session",
                                         "source": "user"}),
                 codex("tool_decision", {"tool_name": "shell", "call_id": "c2", "decision": "abort",
                                         "source": "config"}),
                 codex("tool_decision", {"tool_name": "shell", "call_id": "c3", "decision": "approved",
                                         "source": "config"})),
    logs_request(codex("tool_decision", {"tool_name": "shell", "decision": "denied"}),  # no source
                 codex("tool_decision", {"tool_name": "shell", "source": "user"}),  # no decision
                 log_record("tool_decision", {"tool_name": "Read", "source": "user"}),
                 log_record("tool_decision", {"tool_name": "Read", "decision": "reject"})),
    logs_request(codex("tool_result", {"tool_name": "shell", "call_id": "c1", "arguments": '{"command":["ls"]}',
                                       "duration_ms": "250", "success": "true", "output": "Exit code: 0\n"})),
    logs_request(codex("tool_result", {"tool_name": "shell", "success": False},
                       body={"stringValue": "codex.tool_result"})),
    # the typed parse reads a number as its value, as the per-record path does: 1.50 is 1.5 both ways
    logs_request(log_record("user_prompt", {"cost": 1.5})).replace(b"1.5", b"1.50"),
    logs_request(),
    b'{"resourceLogs":[]}',
]
DECLINED = [  # lines the bulk path must leave to the per-record path
    logs_request(log_record("user_prompt", {"prompt": "an escape \x1b and a backslash \\"})),
    logs_request(log_record("user_prompt", {"big": 123456789012345.0})),  # 16 digits: not judged
    logs_request(log_record("user_prompt", body=None)),  # null fields are kept in the digest
    logs_request(log_record("user_prompt", observedTimeUnixNano=None)),
    logs_request(log_record("user_prompt", {"prompt": 5})),  # str() of a number
    logs_request(log_record("api_request", {"input_tokens": "1.5"})),  # a refused count
    logs_request(log_record("api_request", {"input_tokens": -1})),
    logs_request(log_record("tool_result", {"success": "yes"})),
    logs_request(log_record("user_prompt", {"tiny": 0.00001, "huge": 1e22})),
    logs_request(log_record("user_prompt", {"list": [1, 2], "map": {"a": 1}})),
    logs_request(log_record("user_prompt", {"log": "shadow"})),
    logs_request(log_record("user_prompt"), log_record("other", {})),  # a name the bulk path does not map
    logs_request(codex("tool_decision", {"decision": "approved", "source": 1})),
    logs_request(codex("tool_decision", {"decision": "\u0130approved"})),  # not ASCII: lower() may differ
    logs_request(log_record("user_prompt", body={"kvlistValue": {"values": []}})),
    logs_request(log_record("user_prompt", body={})),
    logs_request(log_record("user_prompt", timeUnixNano=DROP, observedTimeUnixNano=DROP)),  # event.timestamp
    logs_request(log_record("user_prompt", {"session.id": ""})),  # no session: quarantined
    logs_request(log_record("user_prompt", traceId="xyz")),
    logs_request(log_record("user_prompt", flags=1)),  # an unknown field kept in attrs
    logs_request(log_record("user_prompt"), scope={"name": "s", "attributes": []}),
    logs_request(log_record("user_prompt"), resource={"n": 7}).replace(b'"intValue":"7"', b'"intValue":7.0'),
    logs_request(log_record("user_prompt")).replace(b'"body"', b'"body":{"stringValue":"x"},"body"'),
    logs_request(log_record("user_prompt", {"prompt": "a\\u0022b"})),
    b'{"resourceLogs":[{"resource":{"attributes":[]},"schemaUrl":"x","scopeLogs":[]}]}',
    b'{"resourceLogs": 5}',
    b'not json',
    b'{"resourceSpans":[]}',
]


def test_generated_claude_code_lines_agree_and_plain_ones_go_in_bulk() -> None:
    assert both_ways(BULK) == set(range(1, len(BULK) + 1))


def test_lines_the_bulk_path_cannot_prove_are_declined() -> None:
    declined = [line for line in DECLINED if not _raises(line)]
    assert both_ways(DECLINED) == set()
    assert declined  # and these still decode one by one (the others quarantine as before)


def _raises(raw: bytes) -> bool:
    try:
        decode_line(raw, Location("otlp_logs", "logs.jsonl", 0, 1), get_format("otlp_logs"), NOW)
    except RecordError:
        return True
    return False


def test_a_whole_logs_ingest_is_the_same_with_and_without_the_bulk_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bulk lines, declined lines and quarantined lines in one file: the same lake and counts."""
    secret = logs_request(log_record("user_prompt", {"prompt": "key sk-proj-" + "A1b2C3d4" * 6}))
    fixture = (FIXTURES / "claude_code_logs.jsonl").read_bytes().strip()
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "logs.jsonl").write_bytes(b"\n".join([fixture, secret, *BULK, b"", *DECLINED]) + b"\n")
    taken: list[int] = []

    def spy(*args: Any) -> PreparedLines:
        prepared = decode_otlp_logs_fast(*args)
        taken.append(len(prepared.done))
        return prepared

    for module in (decode_module, files_module):
        monkeypatch.setattr(module, "decode_otlp_logs_fast", spy)
    with_bulk = ingest_paths(tmp_path / "bulk", [inputs], fmt="otlp_logs", now=NOW)
    assert sum(taken) == 2 + len(BULK)
    nothing = PreparedLines(EVENT_SCHEMA.empty_table().append_column("line_no", pa.array([], pa.int64())),
                            pa.array([], pa.int64()))
    for module in (decode_module, files_module):
        monkeypatch.setattr(module, "decode_otlp_logs_fast", lambda *args: nothing)
    one_by_one = ingest_paths(tmp_path / "single", [inputs], fmt="otlp_logs", now=NOW)
    keys = ("records_read", "records_decoded", "blank_lines", "events_decoded", "items_decoded", "events_written",
            "quarantined", "redactions", "status")
    assert [[getattr(f, k) for k in keys] for f in with_bulk.files] == [
        [getattr(f, k) for k in keys] for f in one_by_one.files]
    report = with_bulk.files[0]
    assert report.redactions > 0 and report.quarantined > 0
    assert report.records_decoded == report.records_read - report.quarantined
    for table in ("events", "_quarantine"):
        assert lake_rows(tmp_path / "bulk", table) == lake_rows(tmp_path / "single", table)


def test_codex_fixture_decodes_in_bulk_exactly_as_one_by_one() -> None:
    lines = (FIXTURES / "codex_logs.jsonl").read_bytes().splitlines()
    assert both_ways(lines) == {1}


def test_a_spool_of_log_files_is_decoded_in_one_bulk_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The receiver spools one small file per request: the log files of an ingest form one group."""
    calls: list[int] = []

    def spy(con: duckdb.DuckDBPyConnection, batch: pa.Table, *args: Any) -> PreparedLines:
        calls.append(len(batch))
        return decode_otlp_logs_fast(con, batch, *args)

    monkeypatch.setattr(files_module, "decode_otlp_logs_fast", spy)
    spool = tmp_path / "spool"
    spool.mkdir()
    for n, raw in enumerate(BULK[:6]):
        (spool / f"logs-{n}.jsonl").write_bytes(raw + b"\n")
    report = ingest_paths(tmp_path / "lake", [spool], fmt="otlp_logs", now=NOW)
    assert calls == [6]
    assert all(f.reconciles() and f.quarantined == 0 for f in report.files)


def test_a_log_file_larger_than_a_group_is_decoded_batch_by_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def spy(where: str) -> Any:
        def decode(*args: Any) -> PreparedLines:
            calls.append(where)
            return decode_otlp_logs_fast(*args)
        return decode

    monkeypatch.setattr(files_module, "GROUP_BYTES", 1000)
    monkeypatch.setattr(files_module, "decode_otlp_logs_fast", spy("group"))
    monkeypatch.setattr(decode_module, "decode_otlp_logs_fast", spy("batch"))
    (tmp_path / "big.jsonl").write_bytes(b"\n".join(BULK[:8]) + b"\n")
    report = ingest_paths(tmp_path / "lake", [tmp_path / "big.jsonl"], fmt="otlp_logs", now=NOW)
    assert calls and set(calls) == {"batch"}
    assert report.files[0].reconciles() and report.files[0].quarantined == 0
