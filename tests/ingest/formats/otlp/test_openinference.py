"""OpenInference spans (Arize Phoenix conventions) in the OTLP/JSON envelope."""

from __future__ import annotations

import orjson
import pytest

from agentwatch.errors import RecordError
from agentwatch.ingest.formats.otlp.openinference import sniff_openinference
from agentwatch.ingest.formats.otlp.traces import sniff_otlp_json
from tests.support.otlp_builders import TRACE, decode, request, span
from tests.support.paths import FIXTURES

FIXTURE = FIXTURES / "otlp" / "openinference.jsonl"
T3 = "6e0c63257de34c92bf9efcd03927272e"
COLUMNS = ("event_id", "event_type", "seq", "agent_id", "session_id", "parent_session_id", "model",
           "tool_name", "tool_call_id", "tool_args", "text", "input_tokens", "output_tokens", "actor")
SPAN0 = "resourceSpans[0].scopeSpans[0].spans[0]"

GOLDEN = [
    # the root AGENT span has no parent agent: the run's start, its input/output in attrs
    (f"{T3}:a1a1a1a1a1a1a1a1:0", "system_prompt", 1767225600000000000, "triage", "sess-9", None, None,
     None, None, None, None, None, None, None),
    # first LLM call: system and user prompt (user.id is the actor), then a tool call and the usage
    (f"{T3}:a1a1a1a1a1a1a1a2:0", "system_prompt", 1767225601000000000, "triage", "sess-9", None, None,
     None, None, None, "Route the customer.", None, None, None),
    (f"{T3}:a1a1a1a1a1a1a1a2:1", "user_prompt", 1767225601000000001, "triage", "sess-9", None, None,
     None, None, None, "My invoice is wrong", None, None, "alice"),
    (f"{T3}:a1a1a1a1a1a1a1a2:2", "tool_call", 1767225602000000002, "triage", "sess-9", None, "gpt-4o-mini",
     "lookup_invoice", "call_a", '{"customer": "alice"}', None, None, None, None),
    (f"{T3}:a1a1a1a1a1a1a1a2:3", "llm_response", 1767225602000000003, "triage", "sess-9", None, "gpt-4o-mini",
     None, None, None, None, 40, 12, None),
    # the TOOL span
    (f"{T3}:a1a1a1a1a1a1a1a3:0", "tool_call", 1767225602500000000, "triage", "sess-9", None, None,
     "lookup_invoice", "call_a", '{"customer": "alice"}', None, None, None, None),
    (f"{T3}:a1a1a1a1a1a1a1a3:1", "tool_result", 1767225603000000001, "triage", "sess-9", None, None,
     "lookup_invoice", "call_a", None, "INV-7: $120", None, None, None),
    # second LLM call: only the tool message is new; reasoning and text content come out
    (f"{T3}:a1a1a1a1a1a1a1a4:0", "tool_result", 1767225604000000000, "triage", "sess-9", None, None,
     None, "call_a", None, "INV-7: $120", None, None, None),
    (f"{T3}:a1a1a1a1a1a1a1a4:1", "reasoning", 1767225605000000001, "triage", "sess-9", None, "gpt-4o-mini",
     None, None, None, "Billing should handle this.", None, None, None),
    (f"{T3}:a1a1a1a1a1a1a1a4:2", "llm_response", 1767225605000000002, "triage", "sess-9", None, "gpt-4o-mini",
     None, None, None, "Passing you to billing.", 80, 20, None),
    # a child AGENT: a spawn with the parent's session
    (f"{T3}:a1a1a1a1a1a1a1a5:0", "agent_spawn", 1767225606000000000, "billing", "sess-10", "sess-9", None,
     None, None, None, None, None, None, None),
    # a RETRIEVER under it inherits the child's agent and session
    (f"{T3}:a1a1a1a1a1a1a1a6:0", "unknown", 1767225607000000000, "billing", "sess-10", None, None,
     None, None, None, None, None, None, None),
]


def rows() -> list[dict]:
    return decode(FIXTURE.read_bytes().rstrip(b"\n"), fmt="openinference")


def attrs(row: dict) -> dict:
    return orjson.loads(row["attrs"])


def test_golden_openinference_request_decodes_to_exact_events() -> None:
    decoded = rows()
    assert [tuple(r[c] for c in COLUMNS) for r in decoded] == GOLDEN
    assert {r["source_format"] for r in decoded} == {"openinference"}
    assert [r["flags"] for r in decoded if r["event_type"] == "unknown"] == [["unknown_event_type"]]


def test_unmapped_openinference_attributes_are_kept() -> None:
    decoded = rows()
    root, first_call, tool, retriever = (attrs(decoded[i]) for i in (0, 1, 5, 11))
    assert root["input.value"] == "My invoice is wrong" and "source_event_type" not in root
    assert root["user.id"] == "alice" and root["openinference.span.kind"] == "AGENT"
    assert root["resource"] == {"service.name": "phoenix-app", "openinference.project.name": "support"}
    assert first_call["llm.token_count.total"] == 52 and first_call["llm.system"] == "openai"
    assert first_call["input.value"] == '{"messages": []}'
    assert not any(key.startswith("llm.input_messages") for key in first_call)
    assert tool["tool.description"] == "Find invoices"
    assert tool["input.value"] == '{"customer": "alice"}'  # the arguments came from tool_call.function.arguments
    assert retriever["retrieval.documents.0.document.content"] == "Refund policy"
    assert retriever["source_event_type"] == "retriever"


def test_history_of_the_second_call_is_kept_once() -> None:
    second = [attrs(r) for r in rows() if r["span_id"] == "a1a1a1a1a1a1a1a4"]
    histories = [a["part"]["input_history"] for a in second if "input_history" in a.get("part", {})]
    assert [[m["message.role"] for m in h] for h in histories] == [["user", "assistant"]]


def test_sniffers_split_openinference_from_plain_otlp() -> None:
    oi = FIXTURE.read_bytes().rstrip(b"\n")
    plain = orjson.dumps(request(span(attributes={"gen_ai.operation.name": "chat"})))
    assert sniff_openinference(oi) and not sniff_otlp_json(oi)
    assert sniff_otlp_json(plain) and not sniff_openinference(plain)
    assert not sniff_openinference(b"not json") and not sniff_otlp_json(b'{"resourceSpans": 3}')


def test_sniffers_see_keys_spelled_with_escapes() -> None:
    """The sniffers skip parsing when the raw text cannot hold a key: a key spelled with \\u escapes
    still counts."""
    oi = FIXTURE.read_bytes().rstrip(b"\n").replace(b"openinference.span.kind", b"openinference\\u002espan.kind")
    plain = orjson.dumps(request(span())).replace(b"resourceSpans", b"resource\\u0053pans")
    assert sniff_openinference(oi) and not sniff_otlp_json(oi)
    assert sniff_otlp_json(plain) and not sniff_openinference(plain)
    assert not sniff_otlp_json(b'{"resourceLogs": []}') and not sniff_openinference(b'{"resourceSpans": []}')


def test_completions_api_prompts_and_choices() -> None:
    record = request(span(attributes={
        "openinference.span.kind": "LLM",
        "llm.prompts.0.prompt.text": "def fib(n):",
        "llm.choices.0.completion.text": " return n",
        "llm.token_count.prompt": 4,
    }))
    decoded = decode(record, fmt="openinference")
    assert [(r["event_type"], r["text"], r["input_tokens"]) for r in decoded] == [
        ("user_prompt", "def fib(n):", None), ("llm_response", " return n", 4)]


def test_mixed_request_maps_each_span_by_its_own_convention() -> None:
    genai = span("00f067aa0ba902b7", {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "rm"})
    oi = span("00f067aa0ba902b8", {"openinference.span.kind": "TOOL", "tool.name": "ls"})
    decoded = decode(request(genai, oi), fmt="openinference")
    assert [(r["event_type"], r["tool_name"]) for r in decoded] == [
        ("tool_call", "rm"), ("tool_result", "rm"), ("tool_call", "ls"), ("tool_result", "ls")]
    assert {r["session_id"] for r in decoded} == {TRACE}


HOSTILE = [
    ("message without role", {"openinference.span.kind": "LLM", "llm.input_messages.0.message.content": "hi"},
     f"{SPAN0}.attributes['llm.input_messages.0'].message.role: missing"),
    ("content not text", {"openinference.span.kind": "LLM", "llm.input_messages.0.message.role": "user",
                          "llm.input_messages.0.message.content": 7},
     f"{SPAN0}.attributes['llm.input_messages.0'].message.content: expected string, got number"),
    ("token count as text", {"openinference.span.kind": "LLM", "llm.token_count.prompt": "40"},
     f"{SPAN0}.attributes['llm.token_count.prompt']: expected integer, got string"),
    ("session id as number", {"openinference.span.kind": "CHAIN", "session.id": 9},
     f"{SPAN0}.attributes['session.id']: expected string, got number"),
    ("span kind as number", {"openinference.span.kind": 1},
     f"{SPAN0}.attributes['openinference.span.kind']: expected string, got number"),
    ("tool arguments as object", {"openinference.span.kind": "TOOL", "tool_call.function.arguments": {"a": 1}},
     f"{SPAN0}.attributes['tool_call.function.arguments']: expected string, got object"),
]


@pytest.mark.parametrize(("attributes", "reason"), [(a, r) for _, a, r in HOSTILE], ids=[n for n, _, _ in HOSTILE])
def test_hostile_openinference_spans_are_rejected_with_exact_reasons(attributes: dict, reason: str) -> None:
    with pytest.raises(RecordError) as caught:
        decode(request(span(attributes=attributes)), fmt="openinference")
    assert caught.value.message == reason


def test_unknown_kind_and_unicode_keys_are_kept() -> None:
    record = request(span(attributes={"openinference.span.kind": "guardrail", "检查.结果": "通过"}))
    (row,) = decode(record, fmt="openinference")
    assert row["event_type"] == "unknown"
    assert attrs(row)["检查.结果"] == "通过" and attrs(row)["source_event_type"] == "guardrail"
