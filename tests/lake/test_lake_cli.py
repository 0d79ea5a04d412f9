"""The lake a person can trust, through the real `agentwatch` entry point: exact exit codes and
messages for a missing lake, odd paths and settings, a deleted file, the remembered inventory,
agents the inventory does not know, and what `verify` tells apart."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

from agentwatch.cli import main
from agentwatch.lake import Lake
from tests.support.native_lines import line, write_lines

KEY = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="  # an Ed25519 public key (the inventory's are checked)
NO_LAKE = "agentwatch: error: no lake here (run `agentwatch ingest` or `agentwatch run` first) in {}\n"
INVENTORY = {"agents": [{
    "agent_id": "agent-a", "owner": "ops@example.com", "purpose": "lists files",
    "business_value": 3, "declared": {d: 2 for d in ("access", "action", "autonomy", "oversight",
                                                      "goal_stability", "monitoring")},
    "allowed_tools": ["bash"], "scope": {"paths": ["/srv/1"]}, "approval_required": ["deploy"],
    "approval_keys": {"ana-2026": KEY},
}]}


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def agentwatch(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    """The console entry point itself (`main`: errors to one line, exit codes), run in this process."""

    def run(lake: Path, *args: str, **env: str) -> tuple[int, str, str]:
        with monkeypatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            patch.setattr(sys, "argv", ["agentwatch", "--lake", str(lake), *args])
            with pytest.raises(SystemExit) as stopped:
                main()
        captured = capsys.readouterr()
        return stopped.value.code or 0, captured.out, captured.err

    return run


def inventory_file(tmp_path: Path, doc: dict = INVENTORY, name: str = "agents.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    return path


def ingested(agentwatch: Run, tmp_path: Path, lake: Path, name: str = "a.jsonl", **fields: str) -> Path:
    src = write_lines(tmp_path / name, [line(seq=i, **fields) for i in range(1, 4)])
    assert agentwatch(lake, "ingest", str(src))[0] == 0
    return lake


@pytest.mark.parametrize("command", [["sql", "select count(*) from events"], ["metrics"], ["verify"], ["show", "s-1"]])
def test_a_missing_lake_is_refused_naming_its_path(agentwatch: Run, lake: Path, command: list[str]) -> None:
    assert agentwatch(lake, *command) == (2, "", NO_LAKE.format(lake))
    assert not lake.exists()  # nothing was created on the way


def test_ingest_creates_a_lake_whose_path_has_a_quote(agentwatch: Run, tmp_path: Path) -> None:
    lake = ingested(agentwatch, tmp_path, tmp_path / "it's-a-lake")
    code, out, _ = agentwatch(lake, "sql", "select count(*) as n from events", "--format", "csv")
    assert (code, out.split()) == (0, ["n", "3"])
    assert agentwatch(lake, "metrics")[0] == 0
    assert agentwatch(lake, "verify")[0] == 0


def test_a_memory_limit_duckdb_cannot_read_is_a_mistake(agentwatch: Run, tmp_path: Path, lake: Path) -> None:
    src = write_lines(tmp_path / "a.jsonl", [line(seq=1)])
    code, _, err = agentwatch(lake, "ingest", str(src), AGENTWATCH_MEMORY_LIMIT="lots")
    assert code == 2
    assert err.startswith("agentwatch: error: `memory_limit` must be a size") and "'lots'" in err


def test_a_deleted_file_fails_only_the_queries_that_read_it(agentwatch: Run, tmp_path: Path, lake: Path) -> None:
    ingested(agentwatch, tmp_path, lake)
    assert agentwatch(lake, "metrics")[0] == 0
    (steps_file,) = Lake(lake).table_files("steps")
    Path(steps_file).unlink()
    key = Path(steps_file).relative_to(lake).as_posix()
    code, out, _ = agentwatch(lake, "sql", "select count(*) as n from events", "--format", "csv")
    assert (code, out.split()) == (0, ["n", "3"])
    code, out, err = agentwatch(lake, "sql", "select count(*) from steps")
    assert (code, out) == (2, "")
    assert err.startswith("agentwatch: error: ")
    assert f"table steps cannot be read: its file {key} is missing from the lake {lake} " \
           f"(run `agentwatch verify`)" in err


def test_show_tables_lists_the_views_only(agentwatch: Run, tmp_path: Path, lake: Path) -> None:
    ingested(agentwatch, tmp_path, lake)
    assert agentwatch(lake, "--inventory", str(inventory_file(tmp_path)), "metrics")[0] == 0
    code, out, _ = agentwatch(lake, "sql", "show tables", "--format", "csv")
    assert (code, out.split()) == (0, ["name", "agents", "events", "inventory", "manifest", "manifest_files",
                                       "metric_points", "quarantine", "session_usage", "sessions", "steps"])


def test_the_agents_view_carries_scopes_keys_and_who_is_unknown(agentwatch: Run, tmp_path: Path, lake: Path) -> None:
    ingested(agentwatch, tmp_path, lake)
    ingested(agentwatch, tmp_path, lake, "b.jsonl", agent_id="ghost")
    code, _, err = agentwatch(lake, "--inventory", str(inventory_file(tmp_path)), "metrics")
    assert code == 0
    assert ("agentwatch: warning: 1 agents in the events are not in the inventory (ghost): their scope and "
            "approvals are not checked (column in_inventory of agents and sessions)\n") in err
    con = Lake(lake).connect()
    assert con.execute("select agent_id, in_inventory, scope_paths, approval_keys, approval_required "
                       "from agents").fetchall() == [
        ("agent-a", True, ["/srv/1"], [{"key_id": "ana-2026", "public_key": KEY}], ["deploy"]),
        ("ghost", False, None, None, None)]
    assert con.execute("select agent_id, in_inventory from sessions order by 1").fetchall() == [
        ("agent-a", True), ("ghost", False)]


def test_the_inventory_is_remembered_until_a_new_one_is_given(agentwatch: Run, tmp_path: Path, lake: Path) -> None:
    ingested(agentwatch, tmp_path, lake)
    given = inventory_file(tmp_path)
    assert agentwatch(lake, "--inventory", str(given), "metrics")[0] == 0
    out_of_scope = "select sum(count_out_of_scope_resources)::int from sessions"
    assert Lake(lake).connect().execute(out_of_scope).fetchone() == (2,)  # /srv/2, /srv/3 are outside /srv/1
    ingested(agentwatch, tmp_path, lake, "b.jsonl", session_id="s-2")
    code, out, err = agentwatch(lake, "metrics")  # no --inventory: the snapshot, not an empty inventory
    assert (code, err) == (0, "using the inventory remembered in the lake (1 agents; --inventory replaces it)\n")
    assert out.startswith("metrics incremental: 1 sessions rebuilt")
    assert Lake(lake).connect().execute(out_of_scope).fetchone() == (4,)
    assert agentwatch(lake, "--inventory", str(given), "metrics")[0] == 0  # the same file: no new snapshot
    wider = {"agents": [{**INVENTORY["agents"][0], "scope": {"paths": ["/srv/**"]}}]}
    assert agentwatch(lake, "--inventory", str(inventory_file(tmp_path, wider, "wider.yaml")), "metrics")[0] == 0
    kinds = [e["kind"] for e in Lake(lake).entries()]
    assert kinds.count("inventory") == 2
    assert Lake(lake).connect().execute(out_of_scope).fetchone() == (0,)


def test_verify_tells_uncommitted_leftovers_from_tampering(agentwatch: Run, tmp_path: Path, lake: Path) -> None:
    ingested(agentwatch, tmp_path, lake)
    with Lake(lake).writer() as writer:  # a writer that stops after renaming its file into place
        writer.replace("findings", pa.table({"finding_id": ["f1"]}))
    leftover = lake / "findings" / "part-00000002-0000.parquet"
    assert leftover.is_file()
    code, out, err = agentwatch(lake, "verify")
    assert code == 3
    assert err == ("UNCOMMITTED findings/part-00000002-0000.parquet: written for manifest entry 2, which was never "
                   "committed (a writer stopped before its commit); the next write removes it\n")
    assert out.startswith("verify ok, but files outside the committed lake need a look: 1 manifest entries, "
                          "1 files, 0 problems, 1 uncommitted leftovers, 0 unowned files; head ")
    with Lake(lake).writer():
        pass
    assert not leftover.exists()
    assert agentwatch(lake, "verify")[0] == 0


def test_verify_reports_files_no_table_owns(agentwatch: Run, tmp_path: Path, lake: Path) -> None:
    ingested(agentwatch, tmp_path, lake)
    (events_file,) = Lake(lake).table_files("events")
    (lake / "rogue").mkdir()
    (lake / "rogue" / "x.parquet").write_bytes(Path(events_file).read_bytes())
    Path(events_file + ".tmp").write_bytes(b"half")
    (lake / "_manifest" / "00000001.json.bak").write_bytes(b"{}")
    code, _, err = agentwatch(lake, "verify")
    key = Path(events_file).relative_to(lake).as_posix()
    assert (code, err.splitlines()) == (3, [
        "UNOWNED _manifest/00000001.json.bak: not a manifest entry; no table owns this file",
        f"UNOWNED {key}.tmp: no table owns this file",
        "UNOWNED rogue/x.parquet: no table owns this file",
    ])


def test_an_empty_manifest_entry_is_tampering(agentwatch: Run, tmp_path: Path, lake: Path) -> None:
    ingested(agentwatch, tmp_path, lake)
    ingested(agentwatch, tmp_path, lake, "b.jsonl", session_id="s-2")
    (lake / "_manifest" / "00000002.json").write_bytes(b"")
    code, out, err = agentwatch(lake, "verify")
    assert code == 1
    assert err.splitlines()[0] == "TAMPERED _manifest/00000002.json: manifest entry is empty"
    assert out.startswith("verify FAILED: 2 manifest entries")


def test_run_warns_of_agents_missing_from_the_inventory_and_remembers_it(
    agentwatch: Run, tmp_path: Path, lake: Path,
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    write_lines(logs / "a.jsonl", [line(seq=i) for i in range(1, 4)])
    write_lines(logs / "b.jsonl", [line(seq=i, agent_id="ghost") for i in range(1, 4)])
    code, _, err = agentwatch(lake, "--inventory", str(inventory_file(tmp_path)), "run", str(logs))
    assert code == 0
    assert err.endswith("agentwatch: warning: 1 agents in the events are not in the inventory (ghost): their scope "
                        "and approvals are not checked (column in_inventory of agents and sessions)\n")
    assert [e["agents"] for e in Lake(lake).entries() if e["kind"] == "inventory"] == [1]

