"""Native JSON Lines into the lake: bad input is quarantined with its reason, odd input follows the
documented policy and is flagged, and the counts always reconcile."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from agentwatch.errors import InputError
from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.lake import Lake
from tests.support.native_lines import DROP, event, line, write_lines

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def ingest(lake: Path, *paths: Path):
    report = ingest_paths(lake, list(paths), now=NOW)
    for f in report.files:
        assert f.reconciles(), f
    return report


def rows(lake: Path, sql: str) -> list[tuple]:
    return Lake(lake).connect().execute(sql).fetchall()


def quarantine(lake: Path) -> dict[int, str]:
    return dict(rows(lake, "select line_no, reason from quarantine order by line_no"))


def test_clean_file_lands_sorted_with_exact_values(tmp_path: Path, lake: Path) -> None:
    src = write_lines(tmp_path / "a.jsonl", [line(seq=2, session_id="s-2"), line(seq=2), line(seq=1)])
    report = ingest(lake, src)
    f = report.files[0]
    assert (f.records_read, f.events_written, f.duplicates, f.quarantined) == (3, 3, 0, 0)
    got = rows(lake, "select session_id, seq, tool_args, attrs, flags, source_offset, date::varchar from events")
    assert got == [
        ("s-1", 1, '{"cmd":"ls /srv/1"}', "{}", [], len(line(seq=2, session_id="s-2")) + len(line(seq=2)) + 2,
         "2026-11-20"),
        ("s-1", 2, '{"cmd":"ls /srv/2"}', "{}", [], len(line(seq=2, session_id="s-2")) + 1, "2026-11-20"),
        ("s-2", 2, '{"cmd":"ls /srv/2"}', "{}", [], 0, "2026-11-20"),
    ]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"ts": "2026-11-20T10:00:00Z", "agent_id": ', "malformed JSON: Expecting value (column 44)"),
        (b"[1, 2]", "expected a JSON object, got array"),
        (b'"just a string"', "expected a JSON object, got string"),
        (line(seq="abc"), "`seq`: expected integer, got string"),
        (line(seq="5"), "`seq`: expected integer, got string"),
        (line(agent_id={"name": "a"}), "`agent_id`: expected string, got object"),
        (line(text=True), "`text`: expected string, got boolean"),
        (line(seq=1).replace(b'"agent_id"', b'"agent\\u005fid"').replace(b'"agent-a"', b"7"),
         "`agent_id`: expected string, got number"),
        (line(input_tokens=1.5), "`input_tokens`: expected integer, got fraction 1.5"),
        (line(input_tokens=-3), "`input_tokens` must not be negative, got -3"),
        (line(agent_id=DROP), "missing required field `agent_id`"),
        (line(session_id=""), "missing required field `session_id`"),
        (line(event_type=None), "missing required field `event_type`"),
        (line(agent_id=7), "`agent_id`: expected string, got number"),
        (line(ts="yesterday"), "`ts`: not an ISO-8601 timestamp: 'yesterday'"),
        (line(ts="2026-13-45T10:00:00Z"), "`ts`: invalid timestamp '2026-13-45T10:00:00Z' (month must be in 1..12)"),
        (line(ts=1763632800), "`ts`: expected ISO-8601 string, got number"),
        (line(attrs=[1]), "`attrs`: expected object, got array"),
        (line(seq=7).replace(b'"seq":7', b'"seq":18446744073709551616'),
         "`seq`: integer 18446744073709551616 is outside 64-bit range"),
        (b'{"ts":"2026-11-20T10:00:00Z","agent_id":"\xff\xfe","session_id":"s","event_type":"error"}',
         "invalid UTF-8 at byte 41 of the line"),
    ],
)
def test_bad_record_is_quarantined_with_its_reason(tmp_path: Path, lake: Path, raw: bytes, reason: str) -> None:
    src = write_lines(tmp_path / "bad.jsonl", [line(seq=1), raw, line(seq=3)])
    report = ingest(lake, src)
    assert quarantine(lake) == {2: reason}
    assert rows(lake, "select seq from events order by seq") == [(1,), (3,)]
    f = report.files[0]
    assert (f.records_read, f.events_written, f.quarantined) == (3, 2, 1)
    raw_back = rows(lake, "select raw, source_offset, source_file from quarantine")[0]
    assert raw_back == (raw, len(line(seq=1)) + 1, str(src))


def test_truncated_last_line_names_the_truncation(tmp_path: Path, lake: Path) -> None:
    src = write_lines(tmp_path / "t.jsonl", [line(seq=1), line(seq=2)[:30]], newline_at_end=False)
    ingest(lake, src)
    assert quarantine(lake) == {
        2: "malformed JSON: Unterminated string starting at (column 30) "
        "(last line has no newline: the file may be truncated)"
    }


def test_a_complete_last_line_without_newline_is_kept(tmp_path: Path, lake: Path) -> None:
    src = write_lines(tmp_path / "t.jsonl", [line(seq=1), line(seq=2)], newline_at_end=False)
    assert ingest(lake, src).files[0].events_written == 2


@pytest.mark.parametrize(
    ("raw", "column", "value", "flags"),
    [
        (b"\xef\xbb\xbf" + line(seq=1), "seq", 1, ["bom_stripped"]),
        (line(ts="2026-11-20T10:00:00"), "ts::varchar", "2026-11-20 10:00:00+00", ["ts_assumed_utc"]),
        (line(ts="2026-11-20T12:00:00+02:00"), "ts::varchar", "2026-11-20 10:00:00+00", []),
        (line(ts="2026-11-20T10:00:00.123456789Z"), "ts::varchar", "2026-11-20 10:00:00.123456+00",
         ["ts_truncated_to_us"]),
        (line(ts="2099-01-01T00:00:00Z"), "date::varchar", "2099-01-01", ["ts_future"]),
        (line(ts="1969-07-20T20:17:00Z"), "date::varchar", "1969-07-20", ["ts_before_1970"]),
        (b'{"ts":"2026-11-20T10:00:00Z","agent_id":"a","session_id":"s","seq":1,"seq":5,"event_type":"error"}',
         "seq", 5, ["duplicate_keys"]),
        (b'{"ts":"2026-11-20T10:00:00Z","agent_id":"a","session_id":"s","seq":1,"input_tokens":NaN,'
         b'"event_type":"llm_response"}', "input_tokens", None, ["nan_to_null"]),
        (line(seq=DROP), "seq", 1, ["seq_from_line"]),
        (line(event_type="thinking"), "event_type || ':' || (attrs->>'source_event_type')", "unknown:thinking",
         ["unknown_event_type"]),
        (line(session_id="../../x"), "session_id", "../../x", []),
        (line(host="build-7"), "attrs", '{"host":"build-7"}', []),
        (line(attrs={"http": {"status": 200, "text": None}}), "attrs", '{"http":{"status":200,"text":null}}', []),
    ],
)
def test_odd_but_keepable_input_follows_the_policy(
    tmp_path: Path, lake: Path, raw: bytes, column: str, value: object, flags: list[str]
) -> None:
    src = write_lines(tmp_path / "odd.jsonl", [raw])
    ingest(lake, src)
    assert rows(lake, f"select {column}, flags from events") == [(value, flags)]


def test_blank_lines_are_counted_not_records(tmp_path: Path, lake: Path) -> None:
    src = write_lines(tmp_path / "b.jsonl", [line(seq=1), "", "   ", "\r", line(seq=2)])
    f = ingest(lake, src).files[0]
    assert (f.records_read, f.blank_lines, f.events_written, f.quarantined) == (2, 3, 2, 0)


def test_session_ids_never_become_paths(tmp_path: Path, lake: Path) -> None:
    src = write_lines(tmp_path / "p.jsonl", [line(session_id="../../escape", agent_id="/etc/passwd")])
    ingest(lake, src)
    assert not (tmp_path / "escape").exists()
    assert sorted(p.name for p in lake.iterdir()) == ["_lock", "_manifest", "events"]


def test_ten_megabyte_line_is_kept_whole(tmp_path: Path, lake: Path) -> None:
    src = write_lines(tmp_path / "big.jsonl", [line(seq=1, text="x" * 10_000_000), line(seq=2)])
    ingest(lake, src)
    assert rows(lake, "select seq, length(text) from events order by seq") == [(1, 10_000_000), (2, 6)]


def test_duplicate_event_ids_are_kept_once_and_counted(tmp_path: Path, lake: Path) -> None:
    a = write_lines(tmp_path / "a.jsonl", [line(seq=1, event_id="e1"), line(seq=2, event_id="e1")])
    b = write_lines(tmp_path / "b.jsonl", [line(seq=3, event_id="e1"), line(seq=4, event_id="e2")])
    report = ingest(lake, a, b)
    assert [(f.events_written, f.duplicates) for f in report.files] == [(1, 1), (1, 1)]
    assert rows(lake, "select event_id, seq from events order by event_id") == [("e1", 1), ("e2", 4)]
    c = write_lines(tmp_path / "c.jsonl", [line(seq=5, event_id="e2"), line(seq=6, event_id="e3")])
    f = ingest(lake, c).files[0]
    assert (f.events_written, f.duplicates) == (1, 1)


def test_same_file_twice_or_renamed_adds_nothing(tmp_path: Path, lake: Path) -> None:
    src = write_lines(tmp_path / "a.jsonl", [line(seq=i) for i in range(1, 6)])
    ingest(lake, src)
    before = rows(lake, "select count(*) from events")
    again = ingest(lake, src)
    renamed = tmp_path / "copy.jsonl"
    renamed.write_bytes(src.read_bytes())
    other = ingest(lake, renamed)
    assert again.files[0].status == other.files[0].status == "skipped_already_ingested"
    assert again.entry is None and other.entry is None
    assert rows(lake, "select count(*) from events") == before == [(5,)]
    assert len(list((lake / "_manifest").glob("*.json"))) == 1


def test_gzip_input_and_corrupt_gzip(tmp_path: Path, lake: Path) -> None:
    good = tmp_path / "good.jsonl.gz"
    good.write_bytes(gzip.compress(line(seq=1) + b"\n" + line(seq=2) + b"\n"))
    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(gzip.compress(b"\n".join(line(seq=i, session_id="s-bad") for i in range(1, 2000)))[:900])
    report = ingest_paths(lake, [good, bad], now=NOW)
    assert [f.status for f in report.files] == ["ingested", "failed"]
    assert str(bad) in report.files[1].error
    assert rows(lake, "select session_id, count(*) from events group by 1") == [("s-1", 2)]


def test_missing_path_is_a_clear_error(tmp_path: Path, lake: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder in .*nope.jsonl"):
        ingest_paths(lake, [tmp_path / "nope.jsonl"], now=NOW)


def test_folder_input_recurses_and_reconciles(tmp_path: Path, lake: Path) -> None:
    (tmp_path / "in" / "deep").mkdir(parents=True)
    write_lines(tmp_path / "in" / "a.jsonl", [line(seq=1), b"oops"])
    write_lines(tmp_path / "in" / "deep" / "b.ndjson", [line(seq=2, session_id="s-2")])
    (tmp_path / "in" / "notes.txt").write_text("not an input")
    report = ingest(lake, tmp_path / "in")
    assert [Path(f.path).name for f in report.files] == ["a.jsonl", "b.ndjson"]
    manifest = rows(lake, "select records_read, events_written, duplicates, quarantined, reconciled from manifest")
    assert manifest == [(2, 1, 0, 1, True), (1, 1, 0, 0, True)]


def test_fast_and_per_record_paths_agree(tmp_path: Path, lake: Path) -> None:
    """A clean line decodes to the same event in bulk (DuckDB) and one by one (Python)."""
    from agentwatch.ingest.decode import decode_line
    from agentwatch.ingest.formats import get_format
    from agentwatch.ingest.records import Location

    lines = [
        line(seq=1, text="héllo \"quoted\" \\ back", attrs={"n": 1.5, "nested": {"a": [1, None]}}),
        line(seq=2, event_type="llm_response", input_tokens=10, output_tokens=0, model="m", status="ok",
             tool_args='{"already": "text"}', parent_session_id="p", trace_id="t", span_id="sp", actor="u@x"),
        line(seq=3, ts="2026-11-20T10:00:00.5+05:30", tool_args=[1, "two"]),
    ]
    src = write_lines(tmp_path / "f.jsonl", lines)
    ingest(lake, src)
    bulk = Lake(lake).connect().sql("select * exclude (date) from events order by seq").to_arrow_table().to_pylist()
    offset = 0
    for raw, got in zip(lines, bulk, strict=True):
        where = Location("native", str(src), offset, got["seq"])
        (one,) = decode_line(raw, where, get_format("native"), NOW)
        offset += len(raw) + 1
        one["attrs"], got["attrs"] = orjson.loads(one["attrs"]), orjson.loads(got["attrs"])
        one["tool_args"], got["tool_args"] = _json_or_text(one["tool_args"]), _json_or_text(got["tool_args"])
        assert got == one
    assert bulk[0]["text"] == 'héllo "quoted" \\ back'


def _json_or_text(value: str | None) -> object:
    try:
        return orjson.loads(value) if value is not None else None
    except orjson.JSONDecodeError:
        return value


def test_event_id_from_source_or_stable_hash(tmp_path: Path, lake: Path) -> None:
    src = write_lines(tmp_path / "h.jsonl", [line(seq=1, event_id="given"), line(seq=2)])
    ingest(lake, src)
    ids = [r[0] for r in rows(lake, "select event_id from events order by seq")]
    assert ids[0] == "given" and len(ids[1]) == 32
    ingest(tmp_path / "lake2", src)
    assert [r[0] for r in rows(tmp_path / "lake2", "select event_id from events order by seq")] == ids


def test_every_event_keeps_its_provenance(tmp_path: Path, lake: Path) -> None:
    src = write_lines(tmp_path / "prov.jsonl", [line(seq=1), line(seq=2)])
    ingest(lake, src)
    got = rows(lake, "select source_format, source_file, source_offset from events order by seq")
    assert got == [("native", str(src), 0), ("native", str(src), len(line(seq=1)) + 1)]


def test_events_roundtrip_through_parquet_unchanged(tmp_path: Path, lake: Path) -> None:
    record = event(seq=9, event_type="approval", actor="alice@x.com", attrs={"summary": "push", "key_id": "k1"})
    src = write_lines(tmp_path / "r.jsonl", [orjson.dumps(record)])
    ingest(lake, src)
    (got,) = Lake(lake).connect().sql("select * from events").to_arrow_table().to_pylist()
    assert got["ts"] == datetime(2026, 11, 20, 10, 0, 9, tzinfo=UTC)
    assert {k: got[k] for k in ("agent_id", "session_id", "seq", "event_type", "actor")} == {
        "agent_id": "agent-a", "session_id": "s-1", "seq": 9, "event_type": "approval", "actor": "alice@x.com"}
    assert orjson.loads(got["attrs"]) == {"summary": "push", "key_id": "k1"}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (line(text="x").replace(b'"text":"x"', b'"text":"\\ud800"'),
         "`text`: text holds an unpaired surrogate (\\ud800)"),
        (line(seq=1).replace(b'"seq":1', b'"seq":1,"attrs":' + b'[' * 300 + b']' * 300),
         "`attrs`: expected object, got array"),
        (line(seq=1).replace(b'"seq":1', b'"seq":1,"deep":' + b'[' * 300 + b']' * 300),
         "`attrs`: cannot be stored as JSON (Recursion limit reached)"),
    ],
)
def test_values_json_or_arrow_cannot_hold_are_quarantined(
    tmp_path: Path, lake: Path, raw: bytes, reason: str
) -> None:
    src = write_lines(tmp_path / "h.jsonl", [raw, line(seq=2)])
    ingest(lake, src)
    assert quarantine(lake) == {1: reason}


def test_an_unreadable_file_stops_the_run_before_anything_is_written(
    tmp_path: Path, lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = write_lines(tmp_path / "good.jsonl", [line(seq=1)])
    bad = write_lines(tmp_path / "bad.jsonl", [line(seq=2)])

    def refuse(path: Path, block: int = 0) -> str:
        if path == bad:
            raise PermissionError(13, "Permission denied")
        return "0" * 64

    monkeypatch.setattr("agentwatch.ingest.pipeline.sha256_file", refuse)
    with pytest.raises(InputError, match=r"cannot read input: Permission denied in .*bad.jsonl"):
        ingest_paths(lake, [good, bad], now=NOW)
    assert list((lake / "_manifest").glob("*.json")) == [] and not (lake / "events").exists()
