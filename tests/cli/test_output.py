"""Output a person reads and a program parses: faithful CSV and JSON, limited tables, one ingest summary."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import orjson
import pytest

from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.lake import Lake
from agentwatch.render import csv_cell, render_vertical
from tests.support.native_lines import line, write_lines
from tests.support.otlp_builders import request, span


@pytest.fixture
def texts_lake(tmp_path: Path, lake: Path) -> Path:
    """A lake whose events carry a multi-line text, spreadsheet formulas and a terminal escape."""
    texts = ["first line\nsecond, \"quoted\"", "=HYPERLINK(\"http://evil\",\"x\")", "+1+2", "-3", "@SUM(A1)",
             "\x1b[31mred\u202e"]
    src = write_lines(tmp_path / "a.jsonl", [line(seq=i, text=t) for i, t in enumerate(texts, 1)])
    ingest_paths(lake, [src])
    return lake


def test_csv_keeps_line_breaks_and_neutralizes_formulas(aw, texts_lake: Path) -> None:
    code, out, _ = aw("--lake", str(texts_lake), "sql", "select seq, text from events order by seq", "--format", "csv")
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert code == 0 and rows == [
        ["seq", "text"], ["1", "first line\nsecond, \"quoted\""], ["2", "'=HYPERLINK(\"http://evil\",\"x\")"],
        ["3", "'+1+2"], ["4", "'-3"], ["5", "'@SUM(A1)"], ["6", "\\u001b[31mred\\u202e"]]


def test_csv_and_json_write_nested_values_as_json(aw, texts_lake: Path) -> None:
    query = ("select [1, 2] as ids, {'id': 'x', 'evidence': ['e1']} as reason, -5 as n, "
             "timestamp '2026-11-20 10:00:00' as at, null as nothing")
    code, out, _ = aw("--lake", str(texts_lake), "sql", query, "--format", "csv")
    assert code == 0 and list(csv.reader(io.StringIO(out, newline=""))) == [
        ["ids", "reason", "n", "at", "nothing"], ["[1, 2]", '{"id": "x", "evidence": ["e1"]}', "-5",
                                                   "2026-11-20T10:00:00", ""]]
    code, out, _ = aw("--lake", str(texts_lake), "sql", query, "--format", "json")
    assert json.loads(out) == {"ids": [1, 2], "reason": {"id": "x", "evidence": ["e1"]}, "n": -5,
                               "at": "2026-11-20T10:00:00", "nothing": None}
    code, out, _ = aw("--lake", str(texts_lake), "sql", query, "--max-width", "0")
    assert '{"id": "x", "evidence": ["e1"]}' in out and "'id'" not in out


def test_json_is_ascii_and_faithful(aw, texts_lake: Path) -> None:
    code, out, _ = aw("--lake", str(texts_lake), "sql", "select text from events order by seq", "--format", "json")
    assert code == 0 and out.isascii()
    assert [json.loads(r)["text"] for r in out.splitlines()][::5] == ["first line\nsecond, \"quoted\"",
                                                                      "\x1b[31mred\u202e"]


def test_a_table_shows_a_limited_number_of_rows_and_says_so(aw, texts_lake: Path) -> None:
    query = "select range as n from range(250)"
    code, out, _ = aw("--lake", str(texts_lake), "sql", query)
    lines = out.splitlines()
    assert code == 0 and lines[-2:] == ["(100 rows)", "150 more rows left out (--limit N shows N, --limit 0 all)"]
    code, out, _ = aw("--lake", str(texts_lake), "sql", query, "--limit", "2")
    assert out.splitlines() == ["n", "-", "0", "1", "(2 rows)", "248 more rows left out (--limit N shows N, "
                                                                "--limit 0 all)"]
    code, out, _ = aw("--lake", str(texts_lake), "sql", query, "--limit", "0")
    assert out.splitlines()[-1] == "(250 rows)"
    code, out, err = aw("--lake", str(texts_lake), "sql", query, "--format", "csv", "--limit", "3")
    assert out.split() == ["n", "0", "1", "2"] and err == "247 more rows left out (--limit N shows N, --limit 0 all)\n"
    code, out, err = aw("--lake", str(texts_lake), "sql", query, "--format", "csv")
    assert len(out.split()) == 251 and err == ""


def test_cells_are_cut_with_a_marker_and_never_cut_at_zero(aw, texts_lake: Path) -> None:
    query = "select repeat('x', 100) as long"
    code, out, _ = aw("--lake", str(texts_lake), "sql", query, "--max-width", "10")
    assert out.splitlines()[2] == "x" * 9 + "…"
    code, out, _ = aw("--lake", str(texts_lake), "sql", query, "--max-width", "0")
    assert out.splitlines()[2] == "x" * 100


def test_vertical_layout_puts_each_column_on_its_own_line(aw, texts_lake: Path) -> None:
    code, out, _ = aw("--lake", str(texts_lake), "sql", "select seq, text from events where seq <= 2 order by seq",
                      "--vertical")
    assert code == 0 and out.splitlines() == [
        "-[ row 1 ]", "seq  | 1", "text | first line\\u000asecond, \"quoted\"",
        "-[ row 2 ]", "seq  | 2", "text | =HYPERLINK(\"http://evil\",\"x\")", "(2 rows)"]


def test_render_helpers_are_inert() -> None:
    assert csv_cell("\tcmd") == "'\tcmd" and csv_cell(-3) == -3 and csv_cell("a\r\nb\x07") == "a\r\nb\\u0007"
    assert render_vertical(["a\x1b"], [("v",)], 0).splitlines()[1] == "a\\u001b | v"


def test_ingest_prints_one_summary_and_only_problem_files(aw, tmp_path: Path, lake: Path) -> None:
    good = write_lines(tmp_path / "good.jsonl", [line(seq=1), line(seq=2)])
    bad = write_lines(tmp_path / "bad.jsonl", [line(seq=1, session_id="s-2"), b"{oops"])
    code, out, _ = aw("--lake", str(lake), "ingest", str(good), str(bad))
    lines = out.splitlines()
    assert code == 0 and lines[:3] == [
        f"native: {bad}: 2 lines -> 1 events written, 0 duplicates, 1 quarantined (see the quarantine view)",
        "ingest: 2 files: 2 ingested, 0 already in the lake, 0 failed",
        "  native: 2 files; 4 lines read = 3 decoded + 1 quarantined + 0 skipped; 3 events = 3 written + 0 duplicates",
    ]
    assert lines[3] == "  0 secrets masked, 0 blank lines ignored" and lines[4].startswith("committed batch ")
    assert str(good) not in out
    code, out, _ = aw("--lake", str(lake), "ingest", "--verbose", str(good))
    assert out.splitlines()[:2] == [f"already in the lake: {good}",
                                    "ingest: 1 file: 0 ingested, 1 already in the lake, 0 failed"]


def test_ingest_counts_the_secrets_masked_in_quarantined_records(aw, tmp_path: Path, lake: Path) -> None:
    token = "ghp_" + "R8sK2mVq7LxN4pT9wZ3bC6dF1gH5jY0aE2uQ"
    src = write_lines(tmp_path / "mixed.jsonl", [line(seq=1, text=f"export GH_TOKEN={token}"),
                                                 b'{"text": "export GH_TOKEN=' + token.encode() + b'", oops'])
    code, out, _ = aw("--lake", str(lake), "ingest", str(src))
    assert code == 0 and "  2 secrets masked, 0 blank lines ignored" in out.splitlines()
    (raw,) = Lake(lake).connect().execute("select raw from quarantine").fetchone()
    assert token.encode() not in raw and b"[REDACTED:" in raw


def test_ingest_names_otlp_requests_spans_and_events(aw, tmp_path: Path, lake: Path) -> None:
    chat = {"gen_ai.operation.name": "chat", "gen_ai.conversation.id": "c1", "gen_ai.agent.id": "a1"}
    spans = [span(f"00f067aa0ba902b{i}", chat) for i in range(3)]
    src = write_lines(tmp_path / "traces.jsonl", [orjson.dumps(request(*spans)), orjson.dumps(request(spans[0]))])
    code, out, _ = aw("--lake", str(lake), "ingest", "-v", str(src))
    assert code == 0
    assert out.splitlines()[0] == f"otlp_json: {src}: 2 requests (4 spans) -> 3 events written, 1 duplicates"
    assert "  otlp_json: 1 file; 2 requests read = 2 decoded + 0 quarantined + 0 skipped; 4 spans -> 4 events = " \
           "3 written + 1 duplicates" in out


def test_a_file_that_cannot_be_read_fails_the_run_and_says_why(aw, tmp_path: Path, lake: Path) -> None:
    good = write_lines(tmp_path / "good.jsonl", [line(seq=1)])
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00truncated")
    code, out, err = aw("--lake", str(lake), "ingest", str(good), str(broken))
    assert code == 1 and err.startswith(f"failed: {broken}: ") and err.count("\n") == 1
    assert out.splitlines()[0] == "ingest: 2 files: 1 ingested, 0 already in the lake, 1 failed"


def test_exports_stream_across_chunks_without_losing_a_row(aw, texts_lake: Path) -> None:
    query = "select range as n from range(25003)"
    code, out, _ = aw("--lake", str(texts_lake), "sql", query, "--format", "csv")
    assert code == 0 and out.split() == ["n", *map(str, range(25003))]
    code, out, err = aw("--lake", str(texts_lake), "sql", query, "--format", "json", "--limit", "20001")
    assert [json.loads(r)["n"] for r in out.splitlines()] == list(range(20001))
    assert err == "5,002 more rows left out (--limit N shows N, --limit 0 all)\n"
