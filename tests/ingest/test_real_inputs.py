"""Real inputs land whole: ids that repeat across sessions, a wrong --format, exec streams without
time, OTLP runs split across export batches, tool results that name only their call."""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from agentwatch.ingest.formats import REGISTRY, SkipRecord, get_format
from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.ingest.records import SETTABLE, DecodedEvent, FileHints, Location
from agentwatch.lake import Lake
from tests.support.otlp_builders import TRACE, kv, request, span
from tests.support.paths import FIXTURES

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def write_lines(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def ingest(lake: Path, *paths: Path, fmt: str = "auto", reingest: bool = False):
    return ingest_paths(lake, list(paths), fmt=fmt, now=NOW, reingest=reingest)


def rows(lake: Path, sql: str) -> list[tuple]:
    return Lake(lake).connect().execute(sql).fetchall()


# --- colliding source ids, every format -------------------------------------------------------

def native(event_id: str, session: str, agent: str = "bot", n: int = 1) -> dict:
    return {"event_id": event_id, "ts": f"2026-05-01T10:00:0{n}Z", "agent_id": agent, "session_id": session,
            "event_type": "user_prompt", "text": f"hello from {session}", "seq": n}


def test_native_ids_repeated_across_sessions_agents_and_files_never_merge(lake: Path, tmp_path: Path) -> None:
    a = write_lines(tmp_path / "a.jsonl", [native("e1", "s1"), native("e1", "s2"), native("e1", "s1", "other")])
    b = write_lines(tmp_path / "b.jsonl", [native("e1", "s3"), native("e1", "s1", n=2)])  # the last: a re-send
    report = ingest(lake, a, b)
    assert [(f.events_written, f.duplicates) for f in report.files] == [(3, 0), (1, 1)]
    assert rows(lake, "select agent_id, session_id from events order by all") == [
        ("bot", "s1"), ("bot", "s2"), ("bot", "s3"), ("other", "s1")]


def claude_record(session: str, uuid: str, kind: str, text: str) -> dict:
    return {"type": kind, "uuid": uuid, "parentUuid": None, "sessionId": session,
            "timestamp": "2026-05-01T10:00:00.000Z", "cwd": "/home/dev/shop",
            "message": {"role": kind, "content": [{"type": "text", "text": text}]}}


def test_claude_code_transcripts_reusing_uuids_keep_every_session(lake: Path, tmp_path: Path) -> None:
    files = []
    for n in range(7):  # seven sessions, each restarting its uuids at u0, a1 (as small transcripts do)
        session = f"00000000-0000-4000-8000-00000000000{n}"
        records = [claude_record(session, "u0", "user", f"task {n}"), claude_record(session, "a1", "assistant", "ok")]
        files.append(write_lines(tmp_path / "proj" / f"{session}.jsonl", records))
    report = ingest(lake, tmp_path / "proj")
    assert sum(f.events_written for f in report.files) == 14 and sum(f.duplicates for f in report.files) == 0
    assert rows(lake, "select count(distinct session_id), count(*) from events") == [(7, 14)]


def test_codex_exec_streams_with_one_name_in_two_folders_are_two_sessions(lake: Path, tmp_path: Path) -> None:
    def stream(thread: str) -> list[dict]:
        return [{"type": "thread.started", "thread_id": thread},
                {"type": "item.completed", "item": {"id": "item_0", "type": "agent_message", "text": "done"}}]

    a = write_lines(tmp_path / "ci1" / "out.jsonl", stream("019a2d7a-41c4-78b1-b7cc-a45d62a89cd5"))
    b = write_lines(tmp_path / "ci2" / "out.jsonl", stream("019a2d7a-41c4-78b1-b7cc-a45d62a89cd6"))
    report = ingest(lake, a, b)
    assert [f.events_written for f in report.files] == [2, 2]
    assert rows(lake, "select count(distinct session_id) from events") == [(2,)]


def otlp_run(conversation: str, service: str) -> dict:
    root = span("00f067aa0ba902b7", {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner",
                                     "gen_ai.conversation.id": conversation}, name="invoke_agent planner")
    return request(root, service=service)


def test_otlp_span_ids_repeated_by_two_services_never_merge(lake: Path, tmp_path: Path) -> None:
    # two SDKs seeded alike (a test harness, a replay) emit the same trace and span ids
    a = write_lines(tmp_path / "a.jsonl", [otlp_run("conv-a", "svc-a")])
    b = write_lines(tmp_path / "b.jsonl", [otlp_run("conv-b", "svc-b"), otlp_run("conv-a", "svc-a")])
    report = ingest(lake, a, b)
    assert [(f.events_written, f.duplicates) for f in report.files] == [(1, 0), (1, 1)]
    assert rows(lake, "select session_id from events order by 1") == [("conv-a",), ("conv-b",)]


def test_openinference_span_ids_repeated_across_sessions_never_merge(lake: Path, tmp_path: Path) -> None:
    def agent(session: str) -> dict:
        attrs = {"openinference.span.kind": "AGENT", "agent.name": "triage", "session.id": session}
        return request(span("a1a1a1a1a1a1a1a1", attrs, name="agent"), service="phoenix-app")

    path = write_lines(tmp_path / "oi.jsonl", [agent("sess-1"), agent("sess-2")])
    report = ingest(lake, path, fmt="openinference")
    assert report.files[0].events_written == 2
    assert rows(lake, "select session_id from events order by 1") == [("sess-1",), ("sess-2",)]


def rollout(session: str) -> list[dict]:
    meta = {"id": session, "timestamp": "2026-05-01T10:00:00.000Z", "cwd": "/srv/app"}
    prompt = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "deploy"}]}
    return [{"timestamp": "2026-05-01T10:00:00.000Z", "type": "session_meta", "payload": meta},
            {"timestamp": "2026-05-01T10:00:01.000Z", "type": "response_item", "payload": prompt}]


def test_codex_rollouts_with_the_same_lines_in_two_sessions_never_merge(lake: Path, tmp_path: Path) -> None:
    one, two = "019a2d7a-41c4-78b1-b7cc-a45d62a89c01", "019a2d7a-41c4-78b1-b7cc-a45d62a89c02"
    a = write_lines(tmp_path / "s" / f"rollout-2026-05-01T10-00-00-{one}.jsonl", rollout(one))
    b = write_lines(tmp_path / "s" / f"rollout-2026-05-01T10-00-00-{two}.jsonl", rollout(two))
    grown = write_lines(tmp_path / "backup" / a.name, [*rollout(one), rollout(one)[1]])  # resumed: one line more
    report = ingest(lake, a, b, grown)
    assert [(f.events_written, f.duplicates) for f in report.files] == [(2, 0), (2, 0), (1, 2)]
    assert rows(lake, "select session_id, count(*) from events group by 1 order by 1") == [(one, 3), (two, 2)]


def claude_log(session: str) -> dict:
    attributes = kv({"event.name": "user_prompt", "session.id": session, "prompt": "run the tests"})
    record = {"timeUnixNano": "1767225600000000000", "body": {"stringValue": "claude_code.user_prompt"},
              "attributes": attributes}
    scope = {"scope": {"name": "com.anthropic.claude_code.events"}, "logRecords": [record]}
    return {"resourceLogs": [{"resource": {"attributes": kv({"service.name": "claude-code"})}, "scopeLogs": [scope]}]}


def test_otlp_log_events_alike_in_two_sessions_never_merge(lake: Path, tmp_path: Path) -> None:
    a = write_lines(tmp_path / "a.jsonl", [claude_log("s-1"), claude_log("s-2")])
    b = write_lines(tmp_path / "b.jsonl", [claude_log("s-2")])  # a retried export
    report = ingest(lake, a, b)
    assert [(f.events_written, f.duplicates) for f in report.files] == [(2, 0), (0, 1)]
    assert rows(lake, "select session_id from events order by 1") == [("s-1",), ("s-2",)]


def test_one_id_in_two_formats_is_two_events(lake: Path, tmp_path: Path) -> None:
    otlp = write_lines(tmp_path / "t.jsonl", [otlp_run("conv-a", "svc")])
    same = native(f"{TRACE}:00f067aa0ba902b7:0", "conv-a", agent="planner")
    report = ingest(lake, otlp, write_lines(tmp_path / "n.jsonl", [same]))
    assert [f.events_written for f in report.files] == [1, 1]


# --- a wrong --format never poisons a file ----------------------------------------------------

def native_file(tmp_path: Path, n: int = 27) -> Path:
    return write_lines(tmp_path / "native.jsonl", [native(f"e{i}", "s1", n=i % 9) for i in range(n)])


def test_wrong_format_then_right_format_lands_every_event(lake: Path, tmp_path: Path) -> None:
    path = native_file(tmp_path)
    wrong = ingest(lake, path, fmt="claude_code").files[0]
    assert (wrong.status, wrong.quarantined, wrong.events_written, wrong.reconciles()) == ("ingested", 27, 0, True)
    again = ingest(lake, path, fmt="claude_code").files[0]
    assert again.status == "skipped_already_ingested"  # the same format gives the same answer
    right = ingest(lake, path).files[0]
    assert (right.status, right.format, right.events_written) == ("ingested", "native", 27)
    assert ingest(lake, path, fmt="codex").files[0].status == "skipped_already_ingested"  # now it is stored
    assert rows(lake, "select count(*) from events") == [(27,)]


def test_otlp_format_on_a_native_file_quarantines_every_record_with_a_reason(lake: Path, tmp_path: Path) -> None:
    path = native_file(tmp_path)
    report = ingest(lake, path, fmt="otlp_json").files[0]
    assert (report.records_read, report.quarantined, report.events_decoded) == (27, 27, 0)
    reasons = rows(lake, "select distinct reason from quarantine")
    assert reasons == [("not an OTLP trace export request: no `resourceSpans`",)]
    assert ingest(lake, path).files[0].events_written == 27


def test_reingest_reads_a_stored_file_again_and_adds_nothing(lake: Path, tmp_path: Path) -> None:
    path = native_file(tmp_path)
    ingest(lake, path)
    again = ingest(lake, path, reingest=True).files[0]
    assert (again.status, again.events_written, again.duplicates, again.reconciles()) == ("ingested", 0, 27, True)


# --- codex exec streams of any name -----------------------------------------------------------

EXEC = [
    {"type": "thread.started", "thread_id": "019a2d7a-41c4-78b1-b7cc-a45d62a89cd5"},
    {"type": "turn.started"},
    {"type": "item.completed", "item": {"id": "item_1", "type": "command_execution", "command": "ls",
                                        "aggregated_output": "a\n", "exit_code": 0, "status": "completed"}},
    {"type": "turn.completed", "usage": {"input_tokens": 10, "output_tokens": 2}},
]


def test_exec_stream_of_any_name_takes_its_time_from_the_uuidv7_thread_id(lake: Path, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "build-output.jsonl", EXEC)
    report = ingest(lake, path).files[0]
    assert (report.format, report.events_written, report.quarantined) == ("codex", 4, 0)
    got = rows(lake, "select distinct session_id, ts, flags from events")
    millis = 0x019A2D7A41C4
    assert got == [("019a2d7a-41c4-78b1-b7cc-a45d62a89cd5",
                    datetime.fromtimestamp(millis / 1000, UTC), ["ts_from_thread_id"])]


def test_a_resumed_thread_in_a_second_stream_keeps_every_event_and_a_copy_adds_none(lake: Path,
                                                                                   tmp_path: Path) -> None:
    again = {"type": "item.completed", "item": {"id": "item_1", "type": "agent_message", "text": "again"}}
    resumed = [EXEC[0], EXEC[1], again]  # its line 3 is where the first run's tool call was
    first = write_lines(tmp_path / "run1.jsonl", EXEC)
    second = write_lines(tmp_path / "run2.jsonl", resumed)  # `codex exec resume`: the same thread, from line 1
    copy = write_lines(tmp_path / "artifacts" / "run1-copy.jsonl", [*EXEC, {"type": "turn.started"}])
    report = ingest(lake, first, second, copy)
    assert [(f.events_written, f.duplicates) for f in report.files] == [(4, 0), (1, 1), (0, 4)]
    assert rows(lake, "select count(distinct session_id), count(*) from events") == [(1, 5)]


def test_exec_stream_without_a_thread_start_takes_the_file_mtime(lake: Path, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "tail.jsonl", EXEC[2:])  # cut: the thread.started line is missing
    os.utime(path, ns=(1_767_225_600_000_000_000, 1_767_225_600_000_000_000))
    assert ingest(lake, path, fmt="codex").files[0].events_written == 3
    got = rows(lake, "select distinct session_id, ts, flags from events")
    assert got == [("tail", datetime(2026, 1, 1, tzinfo=UTC), ["ts_from_file_mtime"])]


# --- one agent run is one session, however its spans were batched -----------------------------

def split_run() -> tuple[dict, dict]:
    """A run whose root (with the conversation id) and child spans went out in two export requests."""
    root = span("00f067aa0ba902b7", {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner",
                                     "gen_ai.conversation.id": "conv-42"}, name="invoke_agent planner")
    chat = span("00f067aa0ba902b8", {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
                                     "gen_ai.usage.input_tokens": 5, "gen_ai.usage.output_tokens": 1},
                parentSpanId="00f067aa0ba902b7")
    tool = span("00f067aa0ba902b9", {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "ls",
                                     "gen_ai.tool.call.id": "c1"}, parentSpanId="00f067aa0ba902b8")
    return request(root, service="support-bot"), request(chat, tool, service="support-bot")


def test_children_exported_before_their_parent_join_its_session(lake: Path, tmp_path: Path) -> None:
    root, children = split_run()
    first = write_lines(tmp_path / "spool" / "1.jsonl", [children])  # what BatchSpanProcessor does
    second = write_lines(tmp_path / "spool" / "2.jsonl", [root])
    ingest(lake, first, second)
    assert rows(lake, "select distinct agent_id, session_id from events") == [("planner", "conv-42")]
    flags = rows(lake, "select span_id, flags from events where span_id = '00f067aa0ba902b9'")
    assert flags[0][1] == ["session_reconciled", "agent_reconciled"]


def test_parent_exported_first_then_children_join_its_session(lake: Path, tmp_path: Path) -> None:
    root, children = split_run()
    ingest(lake, write_lines(tmp_path / "1.jsonl", [root]))
    ingest(lake, write_lines(tmp_path / "2.jsonl", [children]))  # a later ingest run: the parent is in the lake
    assert rows(lake, "select distinct agent_id, session_id from events") == [("planner", "conv-42")]
    assert rows(lake, "select count(*) from events") == [(4,)]


def test_a_child_resent_in_a_later_batch_is_still_a_duplicate(lake: Path, tmp_path: Path) -> None:
    root, children = split_run()
    ingest(lake, write_lines(tmp_path / "1.jsonl", [children]), write_lines(tmp_path / "2.jsonl", [root]))
    again = ingest(lake, write_lines(tmp_path / "3.jsonl", [children, {"resourceSpans": []}])).files[0]
    assert (again.events_written, again.duplicates) == (0, 3)


def test_a_trace_without_any_identified_span_keeps_the_trace_as_session(lake: Path, tmp_path: Path) -> None:
    _, children = split_run()
    ingest(lake, write_lines(tmp_path / "1.jsonl", [children]))
    assert rows(lake, "select distinct agent_id, session_id from events") == [("support-bot", TRACE)]


# --- a tool result names its call's tool ------------------------------------------------------

def tool_exchange(session: str) -> tuple[dict, dict]:
    """A Claude Code tool call and, in a later record, its result naming only the call's id."""
    call = claude_record(session, "a1", "assistant", "")
    call["message"]["content"] = [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}}]
    result = {**claude_record(session, "u2", "user", ""), "timestamp": "2026-05-01T10:00:05.000Z"}
    result["message"]["content"] = [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "a.txt"}]
    return call, result


def test_claude_code_tool_result_takes_the_name_of_its_call_in_the_same_file(lake: Path, tmp_path: Path) -> None:
    session = "00000000-0000-4000-8000-0000000000ab"
    ingest(lake, write_lines(tmp_path / "p" / f"{session}.jsonl", list(tool_exchange(session))))
    got = rows(lake, "select event_type, tool_name, flags from events order by seq")
    assert got == [("tool_call", "Bash", []), ("tool_result", "Bash", ["tool_name_from_call"])]


def test_claude_code_tool_result_takes_the_name_of_its_call(lake: Path, tmp_path: Path) -> None:
    session = "00000000-0000-4000-8000-0000000000aa"
    call, result = tool_exchange(session)
    ingest(lake, write_lines(tmp_path / "p" / f"{session}.jsonl", [call]))
    ingest(lake, write_lines(tmp_path / "p2" / "p" / f"{session}.jsonl", [result]))  # a later file and run
    got = rows(lake, "select event_type, tool_name, flags from events order by seq")
    assert got == [("tool_call", "Bash", []), ("tool_result", "Bash", ["tool_name_from_call"])]



# --- decoders return typed records ------------------------------------------------------------

def test_decoded_events_name_exactly_the_settable_columns() -> None:
    assert set(DecodedEvent.__dataclass_fields__) == SETTABLE | {"flags"}
    with pytest.raises(TypeError, match="tool_nmae"):
        DecodedEvent.of({"event_type": "tool_call", "tool_nmae": "Bash"})  # a misspelt column fails here
    with pytest.raises(TypeError, match="tool_nmae"):
        DecodedEvent(event_type="tool_call", tool_nmae="Bash")  # type: ignore[call-arg]
    event = DecodedEvent.of({"event_type": "tool_call", "tool_name": "Bash", "flags": ("ts_from_file_mtime",)})
    with pytest.raises(AttributeError):
        event.tool_name = "rm"  # frozen
    assert event.as_fields() == {"event_type": "tool_call", "tool_name": "Bash"}


EVERY_FORMAT = {  # a fixture file of each registered format
    "native": None,
    "otlp_json": FIXTURES / "otlp" / "genai.jsonl",
    "openinference": FIXTURES / "otlp" / "openinference.jsonl",
    "otlp_logs": FIXTURES / "otlp" / "claude_code_logs.jsonl",
    "claude_code": FIXTURES / "claude_code" / "-home-dev-shop" / "0b6e4d2c-9a8f-4e7d-b6c5-a4b3c2d1e0f9.jsonl",
    "codex": FIXTURES / "codex" / "exec" / "codex-exec-2025-11-02T14-30-00.jsonl",
}


@pytest.mark.parametrize("name", sorted(set(REGISTRY) - {"otlp_metrics"}))  # metric points are no events
def test_every_format_decodes_to_typed_records(name: str, tmp_path: Path) -> None:
    path = EVERY_FORMAT[name] or native_file(tmp_path, 3)
    fmt = get_format(name)
    lines = path.read_bytes().splitlines()
    hints = FileHints(first_record=lines[0])
    events = []
    for line_no, line in enumerate(lines, start=1):
        with contextlib.suppress(SkipRecord):
            events += fmt.decode(orjson.loads(line), Location(name, str(path), 0, line_no, hints))
    assert events and all(type(event) is DecodedEvent for event in events)
