"""`agentwatch metrics` over the lake: incremental runs equal a full rebuild; up-to-date runs do
nothing; the derived tables are committed, verified and replace their previous versions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from agentwatch.detectors.metrics import run as derived
from agentwatch.detectors.metrics.run import run_metrics
from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.inventory import load_inventory
from agentwatch.lake import Lake, verify_lake
from agentwatch.sample.generate import write_sample
from tests.support.paths import FIXTURES

NOW = datetime(2026, 11, 25, tzinfo=UTC)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fleet")
    write_sample(out, days=6, seed=11, scale=0.3, progress=None)
    return out


def files_by_day(fleet: Path) -> list[list[Path]]:
    days = sorted({p.name.split(".")[0] for p in (fleet / "native").rglob("*.jsonl*")})
    return [sorted((fleet / "native").rglob(f"{day}.jsonl*")) for day in days]


def table(lake: Path, name: str, order: str) -> list[tuple]:
    return Lake(lake).connect().execute(f"select * from {name} order by {order}").fetchall()


def test_incremental_runs_equal_a_full_rebuild(fleet: Path, tmp_path: Path) -> None:
    inventory = load_inventory(fleet / "agents.yaml")
    days = files_by_day(fleet)
    step = tmp_path / "step"
    modes = []
    for chunk in (days[:3], days[3:5], days[5:]):
        ingest_paths(step, [p for day in chunk for p in day], now=NOW)
        modes.append(run_metrics(step, inventory).mode)
    assert modes == ["full", "incremental", "incremental"]
    whole = tmp_path / "whole"
    ingest_paths(whole, [p for day in days for p in day], now=NOW)
    assert run_metrics(whole, inventory).mode == "full"
    for name, order in (("sessions", "agent_id, session_id"), ("steps", "agent_id, session_id, seq, event_id")):
        assert table(step, name, order) == table(whole, name, order), name
    assert verify_lake(step).problems == ()
    for name in ("sessions", "steps"):  # the files an incremental run rewrote are gone from the disk
        live = {Path(f).name for f in Lake(step).table_files(name)}
        assert {p.name for p in (step / name).glob("*.parquet")} == live


def test_an_incremental_run_writes_the_affected_sessions_not_the_table(fleet: Path, tmp_path: Path) -> None:
    inventory = load_inventory(fleet / "agents.yaml")
    days = files_by_day(fleet)
    ingest_paths(tmp_path, [p for day in days[:4] for p in day], now=NOW)
    run_metrics(tmp_path, inventory)
    before = set(Lake(tmp_path).table_files("steps"))
    ingest_paths(tmp_path, [p for day in days[4:] for p in day], now=NOW)
    run = run_metrics(tmp_path, inventory)
    entry = run.entry
    written = sum(o["rows"] for o in entry["outputs"] if o["table"] == "sessions")
    assert run.mode == "incremental" and 0 < run.sessions_rebuilt <= written < run.count_sessions
    assert before & set(Lake(tmp_path).table_files("steps")) == before - {str(tmp_path / k) for k in entry["removes"]}


def test_past_the_file_cap_an_incremental_run_compacts_each_table(
    fleet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(derived, "MAX_TABLE_FILES", 2)
    inventory = load_inventory(fleet / "agents.yaml")
    days, whole = files_by_day(fleet), tmp_path / "whole"
    for chunk in (days[:3], days[3:5], days[5:]):
        ingest_paths(tmp_path, [p for day in chunk for p in day], now=NOW)
        run_metrics(tmp_path, inventory)
    assert [len(Lake(tmp_path).table_files(name)) for name in ("steps", "sessions")] == [1, 1]
    ingest_paths(whole, [p for day in days for p in day], now=NOW)
    run_metrics(whole, inventory)
    assert table(tmp_path, "steps", "agent_id, session_id, seq, event_id") == \
        table(whole, "steps", "agent_id, session_id, seq, event_id")


def test_a_run_with_nothing_new_changes_nothing(fleet: Path, tmp_path: Path) -> None:
    inventory = load_inventory(fleet / "agents.yaml")
    ingest_paths(tmp_path, files_by_day(fleet)[0], now=NOW)
    first = run_metrics(tmp_path, inventory)
    again = run_metrics(tmp_path, inventory)
    assert first.count_sessions > 0 and (again.mode, again.entry) == ("up_to_date", None)
    sessions = Lake(tmp_path).connect().execute("select count(*), count(distinct session_id) from sessions").fetchall()
    events = Lake(tmp_path).connect().execute("select count(distinct (agent_id, session_id)) from events").fetchall()
    assert sessions[0][0] == sessions[0][1] == events[0][0] == first.count_sessions


def test_a_changed_inventory_or_baseline_forces_a_full_rebuild(fleet: Path, tmp_path: Path) -> None:
    inventory = load_inventory(fleet / "agents.yaml")
    ingest_paths(tmp_path, files_by_day(fleet)[0], now=NOW)
    assert run_metrics(tmp_path, inventory).mode == "full"
    assert run_metrics(tmp_path, inventory).mode == "up_to_date"
    assert run_metrics(tmp_path, inventory, baseline_days=3).mode == "full"
    smaller = dict(list(inventory.items())[1:])
    assert run_metrics(tmp_path, smaller, baseline_days=3).mode == "full"


def test_claude_code_usage_repeated_per_content_block_is_counted_once(tmp_path: Path) -> None:
    import shutil

    source = tmp_path / "claude"
    shutil.copytree(FIXTURES / "claude_code", source)
    lake = tmp_path / "lake"
    ingest_paths(lake, [source], now=NOW)
    run_metrics(lake, {})
    con = Lake(lake).connect()
    per_message = con.execute(
        "select session_id, sum(tokens)::bigint from (select session_id, attrs->>'$.message.id' as message, "
        "max(input_tokens) as tokens from events where input_tokens is not null group by all) group by all"
    ).fetchall()
    raw = dict(con.execute("select session_id, sum(input_tokens)::bigint from events group by all").fetchall())
    got = dict(con.execute("select session_id, sum_input_tokens from sessions").fetchall())
    assert per_message and all(got[s] == n for s, n in per_message)
    assert any(raw[s] > n for s, n in per_message)  # the fixture does repeat usage
