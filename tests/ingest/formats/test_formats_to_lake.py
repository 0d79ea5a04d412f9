"""Every format's fixtures through the whole pipeline: auto-detected per file, counts reconcile,
events land in the lake and a second ingest adds nothing."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.lake import Lake, verify_lake
from tests.support.paths import FIXTURES

NOW = datetime(2026, 11, 25, tzinfo=UTC)


@pytest.mark.parametrize(
    ("folder", "formats"),
    [
        ("otlp", {"otlp_json", "openinference", "otlp_logs"}),
        ("claude_code", {"claude_code"}),
        ("codex", {"codex"}),
    ],
)
def test_fixtures_land_in_the_lake(tmp_path: Path, folder: str, formats: set[str]) -> None:
    source = tmp_path / folder
    shutil.copytree(FIXTURES / folder, source)
    lake = tmp_path / "lake"
    report = ingest_paths(lake, [source], now=NOW)
    assert {f.format for f in report.files} == formats
    assert all(f.status == "ingested" and f.reconciles() for f in report.files)
    written = sum(f.events_written for f in report.files)
    con = Lake(lake).connect()
    assert con.execute("select count(*) from events").fetchall() == [(written,)] and written > 0
    by_format = dict(con.execute("select source_format, count(*) from events group by 1").fetchall())
    assert set(by_format) == formats
    assert con.execute("select count(*) from events where event_type = 'tool_call'").fetchall()[0][0] > 0
    again = ingest_paths(lake, [source], now=NOW)
    assert again.entry is None and verify_lake(lake).problems == ()


def test_the_same_span_twice_in_one_request_is_kept_once(tmp_path: Path) -> None:
    import orjson

    from tests.support.otlp_builders import request, span

    chat = span(attributes={
        "gen_ai.operation.name": "chat", "gen_ai.conversation.id": "conv-1", "gen_ai.agent.name": "bot",
        "gen_ai.usage.input_tokens": 5, "gen_ai.usage.output_tokens": 2,
    })
    src = tmp_path / "twice.jsonl"
    src.write_bytes(orjson.dumps(request(chat, chat)) + b"\n")
    lake = tmp_path / "lake"
    (f,) = ingest_paths(lake, [src], now=NOW).files
    assert f.reconciles() and f.events_written > 0 and f.duplicates == f.events_written
    count = Lake(lake).connect().execute("select count(*), count(distinct event_id) from events").fetchall()
    assert count == [(f.events_written, f.events_written)]
