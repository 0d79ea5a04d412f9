"""OTLP/JSON traces with the OpenTelemetry GenAI conventions: golden, hostile and round-trip tests."""

from __future__ import annotations

import base64

import orjson
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from agentwatch.errors import RecordError
from agentwatch.ingest.formats import detect_format
from agentwatch.ingest.formats.otlp.traces import decode_otlp_json, decode_otlp_spans
from agentwatch.ingest.formats.otlp.values import MAX_NANOS
from agentwatch.ingest.receiver.http_server import request_to_otlp_json
from agentwatch.ingest.records import MAX_INT64, SEQ_SLOTS, Location
from tests.support.otlp_builders import BASE_NS, TRACE, decode, kv, request, span
from tests.support.paths import FIXTURES

FIXTURES = FIXTURES / "otlp"
WHERE = Location("otlp_json", "traces.jsonl", 0, 1)
T1 = "4bf92f3577b34da6a3ce929d0e0e4736"
T2 = "0af7651916cd43dd8448eb211c80319c"
COLUMNS = ("event_id", "event_type", "seq", "agent_id", "session_id", "parent_session_id", "model",
           "tool_name", "tool_call_id", "tool_args", "text", "input_tokens", "output_tokens", "status")
SPAN0 = "resourceSpans[0].scopeSpans[0].spans[0]"


def fixture_lines(name: str) -> list[bytes]:
    return (FIXTURES / name).read_bytes().splitlines()


def project(row: dict) -> tuple:
    return tuple(row[c] for c in COLUMNS)


def attrs(row: dict) -> dict:
    return orjson.loads(row["attrs"])


# --- golden -----------------------------------------------------------------------------------

GOLDEN_AGENT_REQUEST = [
    # invoke_agent without a parent agent: the run's start, its usage stays in attrs
    (f"{T1}:00f067aa0ba902b7:0", "system_prompt", 1767225600000000000, "planner", "conv-42", None, None,
     None, None, None, None, None, None, None),
    # first chat call: system instructions and the prompt, then the model's tool call and its usage
    (f"{T1}:00f067aa0ba902b8:0", "system_prompt", 1767225601000000000, "planner", "conv-42", None,
     None, None, None, None, "You are a careful ops assistant.", None, None, None),
    (f"{T1}:00f067aa0ba902b8:1", "user_prompt", 1767225601000000001, "planner", "conv-42", None,
     None, None, None, None, "Why is the app down?", None, None, None),
    (f"{T1}:00f067aa0ba902b8:2", "tool_call", 1767225602000000002, "planner", "conv-42", None,
     "gpt-4o-2024-08-06", "read_file", "call_1", '{"path":"/srv/app/config.yaml"}', None, None, None, None),
    (f"{T1}:00f067aa0ba902b8:3", "llm_response", 1767225602000000003, "planner", "conv-42", None,
     "gpt-4o-2024-08-06", None, None, None, None, 52, 17, None),
    # execute_tool: the call at the start, the result at the end
    (f"{T1}:00f067aa0ba902b9:0", "tool_call", 1767225602500000000, "planner", "conv-42", None, None,
     "read_file", "call_1", '{"path": "/srv/app/config.yaml"}', None, None, None, None),
    (f"{T1}:00f067aa0ba902b9:1", "tool_result", 1767225602750000001, "planner", "conv-42", None, None,
     "read_file", "call_1", None, "db_host: 10.0.0.5", None, None, None),
    # second chat call: only the tool response is new; reasoning and answer come out
    (f"{T1}:00f067aa0ba902ba:0", "tool_result", 1767225603000000000, "planner", "conv-42", None, None,
     None, "call_1", None, "db_host: 10.0.0.5", None, None, None),
    (f"{T1}:00f067aa0ba902ba:1", "reasoning", 1767225604000000001, "planner", "conv-42", None, "gpt-4o",
     None, None, None, "The config points at a private host.", None, None, None),
    (f"{T1}:00f067aa0ba902ba:2", "llm_response", 1767225604000000002, "planner", "conv-42", None, "gpt-4o",
     None, None, None, "The database host is unreachable.", 97, 35, None),
    # a sub-agent spawned by the planner, in its own conversation, that failed
    (f"{T1}:00f067aa0ba902bb:0", "agent_spawn", 1767225605000000000, "researcher", "conv-43", "conv-42", None,
     None, None, None, None, None, None, "error"),
]

GOLDEN_LEGACY_REQUEST = [
    # per-message span events (semconv <= 1.36): no conversation id, so the trace is the session
    (f"{T2}:b7ad6b7169203331:0", "system_prompt", 1767225620000000000, "billing-agent", T2, None,
     None, None, None, None, "Only refund under $50.", None, None, None),
    (f"{T2}:b7ad6b7169203331:1", "user_prompt", 1767225620000000001, "billing-agent", T2, None,
     None, None, None, None, "Refund order 991.", None, None, None),
    (f"{T2}:b7ad6b7169203331:2", "tool_call", 1767225622000000002, "billing-agent", T2, None,
     "claude-sonnet", "issue_refund", "toolu_7", '{"order": 991, "amount": 480}', None, None, None, None),
    (f"{T2}:b7ad6b7169203331:3", "llm_response", 1767225622000000003, "billing-agent", T2, None,
     "claude-sonnet", None, None, None, None, None, None, None),
    # an HTTP client span (no GenAI convention) is kept, and its exception is an error event
    (f"{T2}:b7ad6b7169203332:0", "unknown", 1767225622500000000, "billing-agent", T2, None, None,
     None, None, None, None, None, None, "error"),
    (f"{T2}:b7ad6b7169203332:1", "error", 1767225622900000001, "billing-agent", T2, None, None,
     None, None, None, "HTTPError: 500 Server Error", None, None, "error"),
]


def test_golden_agent_request_decodes_to_exact_events() -> None:
    rows = decode(fixture_lines("genai.jsonl")[0])
    assert [project(r) for r in rows] == GOLDEN_AGENT_REQUEST
    assert {r["trace_id"] for r in rows} == {T1}
    assert [r["parent_span_id"] for r in rows][1:] == ["00f067aa0ba902b7"] * 10
    assert rows[1]["ts"].isoformat() == "2026-01-01T00:00:01+00:00"
    assert all(r["flags"] == [] for r in rows)


def test_golden_legacy_request_decodes_to_exact_events() -> None:
    rows = decode(fixture_lines("genai.jsonl")[1])
    assert [project(r) for r in rows] == GOLDEN_LEGACY_REQUEST


def test_unmapped_attributes_resource_and_scope_land_in_attrs() -> None:
    rows = decode(fixture_lines("genai.jsonl")[0])
    root, first_call = attrs(rows[0]), attrs(rows[1])
    assert root["gen_ai.agent.name"] == "Planner"  # the id named the agent; the name is kept
    assert root["gen_ai.usage.input_tokens"] == 149  # agent-level usage is not counted twice
    assert root["span"]["name"].startswith("invoke_agent")
    assert first_call["resource"] == {"service.name": "support-bot", "deployment.environment.name": "prod"}
    assert first_call["scope"] == {"name": "opentelemetry.instrumentation.openai_v2", "version": "2.1b0"}
    assert first_call["gen_ai.provider.name"] == "openai"
    assert first_call["gen_ai.request.model"] == "gpt-4o"  # the response model is the column
    assert first_call["gen_ai.response.finish_reasons"] == ["tool_call"]
    assert first_call["identity"] == {"agent": "ancestor", "session": "ancestor"}
    assert first_call["span"]["kind"] == "client" and first_call["span"]["name"] == "chat gpt-4o"
    for key in ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
                "gen_ai.usage.input_tokens", "gen_ai.response.model"):
        assert key not in first_call
    assert attrs(rows[10])["span"]["status_message"] == "budget exceeded"
    assert attrs(rows[10])["part"] == {"parent_agent_id": "planner"}


def test_repeated_history_is_kept_once_not_re_emitted() -> None:
    rows = decode(fixture_lines("genai.jsonl")[0])
    second_call = [attrs(r) for r in rows if r["span_id"] == "00f067aa0ba902ba"]
    histories = [a["part"]["input_history"] for a in second_call if "input_history" in a.get("part", {})]
    assert len(histories) == 1
    assert [m["role"] for m in histories[0]] == ["system", "user", "assistant"]


def test_legacy_http_span_keeps_its_exception_details() -> None:
    rows = decode(fixture_lines("genai.jsonl")[1])
    http, error = attrs(rows[4]), attrs(rows[5])
    assert http["url.full"] == "https://payments.internal/refunds"
    assert "events" not in http["span"]  # the exception became an event of its own
    assert error["part"] == {"exception.stacktrace": "Traceback ..."}
    assert error["identity"] == {"agent": "service.name", "session": "trace_id"}


def test_sniffing_tells_otlp_json_from_openinference_and_native() -> None:
    assert detect_format(fixture_lines("genai.jsonl")[0]).name == "otlp_json"
    assert detect_format(fixture_lines("openinference.jsonl")[0]).name == "openinference"
    native = b'{"ts": "2026-01-01T00:00:00Z", "session_id": "s", "event_type": "user_prompt"}'
    assert detect_format(native).name != "otlp_json"


def test_event_ids_are_stable_and_unique() -> None:
    lines = fixture_lines("genai.jsonl")
    first = [r["event_id"] for line in lines for r in decode(line)]
    again = [r["event_id"] for line in lines for r in decode(line, source="elsewhere.jsonl")]
    assert first == again
    assert len(set(first)) == len(first) == 17


# --- hostile ----------------------------------------------------------------------------------

CHAT = {"gen_ai.operation.name": "chat"}
NUMBER_TEXT = '[{"role": "assistant", "parts": [{"type": "text", "content": 5}]}]'


def with_attribute(key: str, raw_value: dict) -> dict:
    """A chat span with one attribute given as a raw AnyValue."""
    record = request(span(attributes=CHAT))
    record["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"].append({"key": key, "value": raw_value})
    return record


HOSTILE = [
    ("not an object", [1, 2], "expected an OTLP trace request object, got array"),
    ("resourceSpans not an array", {"resourceSpans": {}}, "resourceSpans: expected array, got object"),
    ("span not an object", request("x"), f"{SPAN0}: expected object, got string"),
    ("non-hex trace id", request(span(traceId="zz" * 16)),
     f"{SPAN0}.traceId: expected 32 hex digits, got '{'zz' * 16}'"),
    ("base64 trace id", request(span(traceId="S/kvNXezTaajzpKdDg5HNg==")),
     f"{SPAN0}.traceId: expected 32 hex digits, got 'S/kvNXezTaajzpKdDg5HNg=='"),
    ("short span id", request(span(span_id="00f067aa")), f"{SPAN0}.spanId: expected 16 hex digits, got '00f067aa'"),
    ("all-zero trace id", request(span(traceId="0" * 32)), f"{SPAN0}.traceId: all-zero id is invalid"),
    ("numeric span id", request(span(span_id=7)), f"{SPAN0}.spanId: expected hex string, got number"),
    ("missing span id", request(span(span_id="")), f"{SPAN0}.spanId: missing"),
    ("text start time", request(span(startTimeUnixNano="yesterday")),
     f"{SPAN0}.startTimeUnixNano: expected integer, got 'yesterday'"),
    ("missing start time", request(span(startTimeUnixNano="0")), f"{SPAN0}.startTimeUnixNano: missing"),
    ("time past int64", request(span(startTimeUnixNano=str(2**63))),
     f"{SPAN0}.startTimeUnixNano: integer {2**63} is outside 64-bit range"),
    ("time whose seq would pass int64", request(span(startTimeUnixNano=str(2**63 - 1))),
     f"{SPAN0}.startTimeUnixNano: {2**63 - 1} is outside 1970..2262"),
    ("boolean kind", request(span(kind=True)), f"{SPAN0}.kind: expected integer enum, got boolean"),
    ("tokens as text", with_attribute("gen_ai.usage.input_tokens", {"stringValue": "52"}),
     f"{SPAN0}.attributes['gen_ai.usage.input_tokens']: expected integer, got string"),
    ("int64 not a number", with_attribute("gen_ai.usage.input_tokens", {"intValue": "52x"}),
     f"{SPAN0}.attributes['gen_ai.usage.input_tokens'].intValue: expected integer, got '52x'"),
    ("conversation id as number", with_attribute("gen_ai.conversation.id", {"intValue": "42"}),
     f"{SPAN0}.attributes['gen_ai.conversation.id']: expected string, got number"),
    ("two kinds in one AnyValue", with_attribute("k", {"stringValue": "a", "intValue": "1"}),
     f"{SPAN0}.attributes['k']: AnyValue with more than one kind: intValue, stringValue"),
    ("boolean that is text", with_attribute("k", {"boolValue": "true"}),
     f"{SPAN0}.attributes['k'].boolValue: expected boolean, got string"),
    ("bytes not base64", with_attribute("k", {"bytesValue": "***"}),
     f"{SPAN0}.attributes['k'].bytesValue: not valid base64 (Only base64 data is allowed)"),
    ("attribute key not text", request(span(attributes={}) | {"attributes": [{"key": 5, "value": {}}]}),
     f"{SPAN0}.attributes[0].key: expected string, got number"),
    ("messages not JSON", with_attribute("gen_ai.input.messages", {"stringValue": "[{\"role\": "}),
     f"{SPAN0}.attributes['gen_ai.input.messages']: not valid JSON "
     "(unexpected end of data: line 1 column 11 (char 10))"),
    ("message without parts", with_attribute("gen_ai.input.messages", {"stringValue": '[{"role": "user"}]'}),
     f"{SPAN0}.attributes['gen_ai.input.messages'][0].parts: expected array, got null"),
    ("part without type", with_attribute("gen_ai.output.messages",
                                         {"stringValue": '[{"role": "assistant", "parts": [{"content": "x"}]}]'}),
     f"{SPAN0}.attributes['gen_ai.output.messages'][0].parts[0]: expected part object with a string `type`"),
    ("text part not text", with_attribute("gen_ai.output.messages", {"stringValue": NUMBER_TEXT}),
     f"{SPAN0}.attributes['gen_ai.output.messages'][0].parts[0].content: expected string, got number"),
    ("negative tokens", with_attribute("gen_ai.usage.output_tokens", {"intValue": "-3"}),
     "`output_tokens` must not be negative, got -3"),
    ("no agent anywhere", request(span(attributes=CHAT), service=None),
     f"{SPAN0}.attributes: no agent identity on the span, its ancestors or resource service.name"),
]


@pytest.mark.parametrize(("record", "reason"), [(r, why) for _, r, why in HOSTILE], ids=[n for n, _, _ in HOSTILE])
def test_hostile_records_are_rejected_with_exact_reasons(record: object, reason: str) -> None:
    with pytest.raises(RecordError) as caught:
        decode(record)
    assert caught.value.message == reason


def test_deep_nesting_is_refused_not_recursed() -> None:
    deep: dict = {"stringValue": "bottom"}
    for _ in range(70):  # 210 JSON levels: past our limit, within what JSON writers emit
        deep = {"arrayValue": {"values": [deep]}}
    with pytest.raises(RecordError) as caught:
        decode(with_attribute("deep", deep))
    assert caught.value.message.endswith(": AnyValue nested deeper than 64 levels")
    assert caught.value.message.startswith(f"{SPAN0}.attributes['deep'].arrayValue.values[0]")


def test_one_bad_span_quarantines_the_record_but_is_isolated_per_span() -> None:
    good = span("00f067aa0ba902b7", CHAT)
    bad = span("00f067aa0ba902b8", CHAT, traceId="nothex")
    record = request(good, bad)
    with pytest.raises(RecordError, match=r"spans\[1\]\.traceId: expected 32 hex digits"):
        decode_otlp_json(record, WHERE)
    results = decode_otlp_spans(record)
    assert [path for path, _ in results] == [SPAN0, "resourceSpans[0].scopeSpans[0].spans[1]"]
    assert isinstance(results[1][1], RecordError)
    assert [e.event_type for e in results[0][1]] == ["llm_response"]


def test_unicode_keys_huge_values_and_many_attributes_are_kept() -> None:
    many = {f"custom.{i}": i for i in range(3000)}
    big = "x" * 1_000_000
    record = request(span(attributes={**CHAT, "模型.名前": "テスト", "\u202ename": "rtl", "blob": big, **many}))
    (row,) = decode(record)
    kept = attrs(row)
    assert kept["模型.名前"] == "テスト" and kept["\u202ename"] == "rtl"
    assert kept["blob"] == big
    assert all(kept[f"custom.{i}"] == i for i in range(3000))


def test_odd_but_valid_values_are_kept_not_crashed_on() -> None:
    record = request(span(
        attributes=CHAT, kind=99, status={"code": "STATUS_CODE_ERROR"},
        endTimeUnixNano=None, parentSpanId="", flags=257, traceState="vendor=1",
    ))
    record["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"] += [
        {"key": "future", "value": {"uuidValue": "123"}},
        {"key": "nan", "value": {"doubleValue": "NaN"}},
        {"key": "empty", "value": {}},
    ]
    (row,) = decode(record)
    kept = attrs(row)
    assert row["status"] == "error" and row["parent_span_id"] is None
    assert kept["span"]["kind"] == "unknown" and kept["span"]["flags"] == 257
    assert kept["span"]["traceState"] == "vendor=1"
    assert kept["span"]["end_time_unix_nano"] == BASE_NS  # no end: the start
    assert kept["future"] == {"uuidValue": "123"} and kept["nan"] is None and kept["empty"] is None


def test_the_last_accepted_time_leaves_room_for_every_seq_of_its_span() -> None:
    last = str(MAX_NANOS)
    rows = decode(request(span(attributes=CHAT, startTimeUnixNano=last, endTimeUnixNano=last)))
    assert [r["flags"] for r in rows] == [["ts_future"]]
    assert rows[0]["seq"] + SEQ_SLOTS - 1 <= MAX_INT64  # the span's 1000th event would still fit


def test_attribute_named_like_a_reserved_key_is_renamed_not_overwritten() -> None:
    (row,) = decode(request(span(attributes={**CHAT, "resource": "mine", "span": 1})))
    kept = attrs(row)
    assert kept["attribute:resource"] == "mine" and kept["attribute:span"] == 1
    assert kept["resource"] == {"service.name": "svc"}


def test_ancestor_cycles_do_not_hang() -> None:
    a = span("00f067aa0ba902b7", {}, parentSpanId="00f067aa0ba902b8")
    b = span("00f067aa0ba902b8", {}, parentSpanId="00f067aa0ba902b7")
    rows = decode(request(a, b))
    assert [r["session_id"] for r in rows] == [TRACE, TRACE]


# --- round trip: protobuf messages -> OTLP/JSON -> events --------------------------------------

def any_value(**kind: object) -> AnyValue:
    return AnyValue(**kind)


def proto_request() -> ExportTraceServiceRequest:
    trace_id, span_id = bytes.fromhex(T1), bytes.fromhex("00f067aa0ba902b9")
    attributes = [
        KeyValue(key="gen_ai.operation.name", value=any_value(string_value="execute_tool")),
        KeyValue(key="gen_ai.tool.name", value=any_value(string_value="delete_branch")),
        KeyValue(key="gen_ai.tool.call.id", value=any_value(string_value="call_9")),
        KeyValue(key="gen_ai.conversation.id", value=any_value(string_value="conv-1")),
        KeyValue(key="gen_ai.tool.call.arguments", value=any_value(kvlist_value=KeyValueList(values=[
            KeyValue(key="branch", value=any_value(string_value="main")),
            KeyValue(key="force", value=any_value(bool_value=True))]))),
        KeyValue(key="retries", value=any_value(int_value=2**40)),
        KeyValue(key="score", value=any_value(double_value=0.25)),
        KeyValue(key="tags", value=any_value(array_value=ArrayValue(values=[any_value(string_value="a")]))),
        KeyValue(key="payload", value=any_value(bytes_value=b"\x00\xff")),
    ]
    span_pb = Span(trace_id=trace_id, span_id=span_id, parent_span_id=bytes.fromhex("00f067aa0ba902b7"),
                   name="execute_tool delete_branch", kind=Span.SPAN_KIND_INTERNAL,
                   start_time_unix_nano=BASE_NS, end_time_unix_nano=BASE_NS + 500_000_000,
                   attributes=attributes, status=Status(code=Status.STATUS_CODE_OK))
    resource_attrs = [KeyValue(key="service.name", value=any_value(string_value="git-bot"))]
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(
        resource={"attributes": resource_attrs}, scope_spans=[ScopeSpans(spans=[span_pb])])])


def test_protobuf_round_trip_uses_hex_ids_and_string_int64() -> None:
    data = request_to_otlp_json(proto_request())
    raw_span = data["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert raw_span["traceId"] == T1 and raw_span["spanId"] == "00f067aa0ba902b9"
    assert raw_span["startTimeUnixNano"] == str(BASE_NS) and raw_span["kind"] == 1
    rows = decode(orjson.dumps(data))
    assert [(r["event_type"], r["tool_name"], r["tool_call_id"], r["tool_args"], r["status"]) for r in rows] == [
        ("tool_call", "delete_branch", "call_9", '{"branch":"main","force":true}', "ok"),
        ("tool_result", "delete_branch", "call_9", None, "ok"),
    ]
    assert [r["event_id"] for r in rows] == [f"{T1}:00f067aa0ba902b9:0", f"{T1}:00f067aa0ba902b9:1"]
    assert rows[0]["agent_id"] == "git-bot" and rows[0]["session_id"] == "conv-1"
    kept = attrs(rows[0])
    assert kept["retries"] == 2**40 and kept["score"] == 0.25 and kept["tags"] == ["a"]
    assert base64.b64decode(kept["payload"]) == b"\x00\xff"


def test_kvlist_and_unset_attributes_decode_through_builders() -> None:
    record = request(span(attributes={**CHAT, "gen_ai.request.model": "m", "opts": {"temperature": 0.5}}))
    (row,) = decode(record)
    assert row["model"] == "m" and attrs(row)["opts"] == {"temperature": 0.5}
    assert kv({"a": 1}) == [{"key": "a", "value": {"intValue": "1"}}]


def test_an_agentwatch_approval_span_event_becomes_an_approval():
    tool = span(attributes={
        "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "git_push", "gen_ai.tool.call.id": "call-9",
        "gen_ai.conversation.id": "conv-1", "gen_ai.agent.name": "cicd",
    }, events=[{"name": "agentwatch.approval", "timeUnixNano": str(BASE_NS + 500_000_000), "attributes": kv({
        "user.email": "alice@acme.com", "agentwatch.approval.summary": "push fix to pr-12",
        "agentwatch.approval.signature": "c2ln", "agentwatch.approval.key_id": "alice-2026"})}])
    events = decode(request(tool))
    assert [e["event_type"] for e in events] == ["tool_call", "approval", "tool_result"]
    approval = events[1]
    assert (approval["tool_call_id"], approval["actor"]) == ("call-9", "alice@acme.com")
    attrs = orjson.loads(approval["attrs"])
    assert {k: attrs[k] for k in ("summary", "signature", "key_id")} == {
        "summary": "push fix to pr-12", "signature": "c2ln", "key_id": "alice-2026"}
    assert orjson.loads(events[0]["attrs"])["span"].get("events", []) == []
