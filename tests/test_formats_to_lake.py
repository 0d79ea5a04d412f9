"""Every format's fixtures through the whole pipeline: auto-detected per file, counts reconcile,
events land in the lake and a second ingest adds nothing."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agentwatch.detectors.catalog import connect
from agentwatch.ingest.manifest import verify_lake
from agentwatch.ingest.pipeline import ingest_paths

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 11, 25, tzinfo=UTC)


@pytest.mark.parametrize(
    ("folder", "formats"),
    [
        ("otlp", {"otlp_json", "openinference"}),
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
    con = connect(lake)
    assert con.execute("select count(*) from events").fetchall() == [(written,)] and written > 0
    by_format = dict(con.execute("select source_format, count(*) from events group by 1").fetchall())
    assert set(by_format) == formats
    assert con.execute("select count(*) from events where event_type = 'tool_call'").fetchall()[0][0] > 0
    again = ingest_paths(lake, [source], now=NOW)
    assert again.entry is None and verify_lake(lake).problems == ()
