"""The sample's OTLP/JSON writer: GenAI-convention traces that decode back to the native events."""

from __future__ import annotations

import gzip
import re
from collections import Counter, defaultdict
from pathlib import Path

import orjson
import pytest

from agentwatch.errors import ConfigError
from agentwatch.ingest.formats.otlp.traces import decode_otlp_json, sniff_otlp_json
from agentwatch.ingest.records import Location
from agentwatch.inventory import load_inventory
from agentwatch.sample.generate import write_sample
from agentwatch.sample.signing import verify_b64

AGENT = "research-agent"
RUN = {"days": 6, "scale": 0.4, "seed": 5}
COMPARED = ("user_prompt", "reasoning", "tool_call", "tool_result", "error")


def lines(folder: Path) -> list[bytes]:
    return [line for path in sorted(folder.rglob("*.jsonl.gz")) for line in gzip.open(path)]


def by_session(events) -> dict[str, list[dict]]:
    sessions = defaultdict(list)
    for event in events:
        sessions[event["session_id"]].append(event)
    return sessions


def fingerprint(events: list[dict]) -> Counter:
    """What a session did, independent of how the format orders or times model output."""
    seen = Counter()
    for e in events:
        if e["event_type"] in COMPARED:
            args = e.get("tool_args")
            args = orjson.loads(args) if isinstance(args, str) else args
            text = e.get("text") if e["event_type"] != "error" else None
            seen[(e["event_type"], e.get("tool_name"), e.get("tool_call_id"), orjson.dumps(args), text)] += 1
    seen["tokens"] = sum(e.get("input_tokens") or 0 for e in events) + sum(e.get("output_tokens") or 0 for e in events)
    return seen


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    native, otlp = tmp_path_factory.mktemp("native"), tmp_path_factory.mktemp("otlp")
    write_sample(native, progress=None, **RUN)
    write_sample(otlp, progress=None, otlp_agent=AGENT, **RUN)
    return native, otlp


def test_only_the_chosen_agent_changes_format(runs):
    native, otlp = runs
    assert not (otlp / "native" / AGENT).exists() and list((otlp / "otlp" / AGENT).glob("*.jsonl.gz"))
    assert [p.name for p in (otlp / "otlp").iterdir()] == [AGENT]
    others = [p.relative_to(native) for p in (native / "native").rglob("*.gz") if AGENT not in p.parts]
    assert others and all((native / p).read_bytes() == (otlp / p).read_bytes() for p in others)
    assert (native / "labels.csv").read_bytes() == (otlp / "labels.csv").read_bytes()


def test_records_are_otlp_json_trace_requests(runs):
    for line in lines(runs[1] / "otlp"):
        assert sniff_otlp_json(line)
        spans = orjson.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"]
        for span in spans:
            assert re.fullmatch(r"[0-9a-f]{32}", span["traceId"]) and re.fullmatch(r"[0-9a-f]{16}", span["spanId"])
            assert isinstance(span["startTimeUnixNano"], str) and int(span["endTimeUnixNano"]) >= int(
                span["startTimeUnixNano"])
        names = {a["value"].get("stringValue") for s in spans for a in s["attributes"]
                 if a["key"] == "gen_ai.operation.name"}
        assert "invoke_agent" in names


def test_decoded_traces_match_the_native_events(runs):
    native, otlp = runs
    expected = by_session(orjson.loads(line) for line in lines(native / "native" / AGENT))
    decoded = []
    for i, line in enumerate(lines(otlp / "otlp")):
        where = Location("otlp_json", "t.jsonl", 0, i + 1)
        decoded.extend(e.as_fields() for e in decode_otlp_json(orjson.loads(line), where))
    got = by_session(decoded)
    assert set(got) == set(expected) and len(expected) > 20
    for sid, events in expected.items():
        assert fingerprint(got[sid]) == fingerprint(events), sid
    native_links = {(sid, e["attrs"]["child_session_id"]) for sid, events in expected.items()
                    for e in events if e["event_type"] == "agent_spawn"}
    decoded_links = {(e["parent_session_id"], e["session_id"]) for e in decoded if e["event_type"] == "agent_spawn"}
    assert native_links and decoded_links == native_links


def test_approvals_ride_along_as_verifiable_span_events(tmp_path):
    write_sample(tmp_path, progress=None, otlp_agent="cicd-assistant", **RUN)
    keys = load_inventory(tmp_path / "agents.yaml")["cicd-assistant"].approval_keys
    approvals = []
    for line in lines(tmp_path / "otlp"):
        for span in orjson.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"]:
            for event in span.get("events", []):
                if event["name"] == "agentwatch.approval":
                    approvals.append({a["key"]: a["value"]["stringValue"] for a in event["attributes"]})
    assert approvals
    valid = [a for a in approvals if verify_b64(keys[a["agentwatch.approval.key_id"]],
                                                a["agentwatch.approval.summary"], a["agentwatch.approval.signature"])]
    assert 0 < len(valid) <= len(approvals)


def test_unknown_otlp_agent_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="unknown agent"):
        write_sample(tmp_path, progress=None, otlp_agent="nobody", days=1)
