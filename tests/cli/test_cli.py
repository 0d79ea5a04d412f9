"""The command line as an analyst uses it: ingest, query read-only, verify; errors say where."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from agentwatch.cli import cli
from tests.support.native_lines import line, write_lines


def run(lake: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--lake", str(lake), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_ingest_prints_the_reconciliation(tmp_path: Path, lake: Path) -> None:
    src = write_lines(tmp_path / "a.jsonl", [line(seq=1, event_id="e1"), b"{oops", line(seq=2, event_id="e1")])
    code, out = run(lake, "ingest", str(src))
    assert code == 0
    assert ("  native: 1 file; 3 lines read = 2 decoded + 1 quarantined + 0 skipped; "
            "2 events = 1 written + 1 duplicates") in out


def test_sql_formats_and_refuses_writes(tmp_path: Path, lake: Path) -> None:
    run(lake, "ingest", str(write_lines(tmp_path / "a.jsonl", [line(seq=1), line(seq=2)])))
    code, out = run(lake, "sql", "select seq, event_type from events order by seq", "--format", "json")
    assert (code, [json.loads(r) for r in out.splitlines()]) == (
        0, [{"seq": 1, "event_type": "tool_call"}, {"seq": 2, "event_type": "tool_call"}])
    code, out = run(lake, "sql", "select seq from events order by seq", "--format", "csv")
    assert out.splitlines() == ["seq", "1", "2"]
    for statement in (f"copy events to '{lake}/x.parquet'", "create table t as select 1", "drop view events",
                      f"explain analyze copy (select 1) to '{lake}/x.parquet'"):
        result = CliRunner().invoke(cli, ["--lake", str(lake), "sql", statement])
        assert "statement must be a read-only query" in str(result.exception)
    assert not (lake / "x.parquet").exists()


def test_sql_table_renders_hostile_text_inert(tmp_path: Path, lake: Path) -> None:
    hostile = "\x1b[2J\x1b[31mALL CLEAR\u202e gnp.exe"
    run(lake, "ingest", str(write_lines(tmp_path / "a.jsonl", [line(seq=1, text=hostile)])))
    code, out = run(lake, "sql", "select text from events")
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\u001b[2J\\u001b[31mALL CLEAR\\u202e gnp.exe" in out


def test_verify_exit_code_and_head(tmp_path: Path, lake: Path) -> None:
    run(lake, "ingest", str(write_lines(tmp_path / "a.jsonl", [line(seq=1)])))
    code, out = run(lake, "verify")
    head = out.strip().split()[-1]
    assert code == 0 and out.startswith("verify ok: 1 manifest entries, 1 files, 0 problems")
    next((lake / "events").rglob("*.parquet")).write_bytes(b"PAR1 tampered")
    code, out = run(lake, "verify", "--head", head)
    assert code == 1 and "verify FAILED" in out


def test_sql_on_a_lake_without_events_has_the_views(tmp_path: Path, lake: Path) -> None:
    run(lake, "ingest", str(write_lines(tmp_path / "a.jsonl", [b"{oops"])))
    code, out = run(lake, "sql", "select count(*) as n from events", "--format", "csv")
    assert (code, out.splitlines()) == (0, ["n", "0"])
    code, out = run(lake, "sql", "select count(*) as n from quarantine", "--format", "csv")
    assert (code, out.splitlines()) == (0, ["n", "1"])


def test_sql_cannot_read_the_masking_key_or_the_spool(tmp_path: Path, lake: Path, monkeypatch) -> None:
    monkeypatch.delenv("AGENTWATCH_REDACTION_KEY")
    run(lake, "ingest", str(write_lines(tmp_path / "a.jsonl", [line(seq=1)])))
    assert (lake / "_keys" / "redaction.key").exists()
    result = CliRunner().invoke(cli, ["--lake", str(lake), "sql", f"select * from read_text('{lake}/_keys/*')"])
    assert result.exit_code != 0 and "redaction" not in result.output


def test_csv_and_json_output_are_inert(tmp_path: Path, lake: Path) -> None:
    run(lake, "ingest", str(write_lines(tmp_path / "a.jsonl", [line(seq=1, text="\x1b[31mred\u202e")])))
    for fmt in ("csv", "json"):
        code, out = run(lake, "sql", "select text from events", "--format", fmt)
        assert code == 0 and "\x1b" not in out and "\u202e" not in out and "red" in out
