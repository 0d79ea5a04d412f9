"""The sample fleet generator: reproducible, labelled, each scenario shaped as it claims, no giveaways."""

from __future__ import annotations

import csv
import gzip
import hashlib
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime
from fnmatch import fnmatch
from pathlib import Path

import orjson
import pytest

from agentwatch.ingest.formats.native.decoder import decode_native
from agentwatch.ingest.records import Location, normalize_event
from agentwatch.inventory import load_inventory
from agentwatch.sample.entities import iban, iban_is_valid
from agentwatch.sample.generate import DEFAULT_OTLP_AGENT, write_sample
from agentwatch.sample.model import summarize_action
from agentwatch.sample.scenarios import HARD_NEGATIVES, INCIDENTS, players
from agentwatch.sample.signing import verify_b64
from tests.support.paths import ROOT

COMMITTED = ROOT / "data" / "sample"
SMALL = {"days": 6, "scale": 0.3, "seed": 11}
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ENTITY = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}|[\w.+-]+@[\w-]+\.[\w.-]+|https?://[^\s\"'<>]+")
SINKS = {"send_email", "schedule_payment", "issue_refund", "http_request", "post_message"}


def read_events(root: Path) -> list[dict]:
    """Every event under root/native, in file order."""
    events = []
    for path in sorted((root / "native").rglob("*.jsonl*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as handle:
            events.extend(orjson.loads(line) for line in handle)
    return events


def read_labels(root: Path) -> dict[str, tuple[int, str]]:
    with (root / "labels.csv").open(newline="") as handle:
        return {row["session_id"]: (int(row["label"]), row["scenario"]) for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The default run, freshly generated: (root, summary, events by session, labels)."""
    root = tmp_path_factory.mktemp("sample")
    summary = write_sample(root, progress=None)
    sessions = defaultdict(list)
    for event in read_events(root):
        sessions[event["session_id"]].append(event)
    return root, summary, sessions, read_labels(root)


def of_scenario(sample, scenario: str) -> list[list[dict]]:
    _, _, sessions, labels = sample
    found = [sessions[sid] for sid, (_, name) in labels.items() if name == scenario]
    assert found, f"no session plays {scenario}"
    return found


def calls(events: list[dict]) -> list[dict]:
    return [e for e in events if e["event_type"] == "tool_call"]


def approvals_by_call(events: list[dict]) -> dict[str, dict]:
    return {e["tool_call_id"]: e for e in events if e["event_type"] == "approval"}


def file_hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_output(tmp_path):
    first = write_sample(tmp_path / "a", progress=None, **SMALL)
    write_sample(tmp_path / "b", progress=None, **SMALL)
    write_sample(tmp_path / "c", progress=None, **{**SMALL, "seed": 12})
    assert file_hashes(tmp_path / "a") == file_hashes(tmp_path / "b")
    assert file_hashes(tmp_path / "a") != file_hashes(tmp_path / "c")
    assert first["events"] > 1000 and first["files"] == 6 * SMALL["days"]


def test_uncompressed_output_has_the_same_events(tmp_path):
    write_sample(tmp_path / "gz", progress=None, **SMALL)
    write_sample(tmp_path / "plain", progress=None, gzip=False, **SMALL)
    assert not list((tmp_path / "plain").rglob("*.gz"))
    assert read_events(tmp_path / "plain") == read_events(tmp_path / "gz")


def test_committed_sample_is_the_default_run(tmp_path):
    """`agentwatch sample` with its defaults: native files, and one agent as OTLP/JSON traces."""
    write_sample(tmp_path, progress=None, otlp_agent=DEFAULT_OTLP_AGENT)
    files = sorted(p.relative_to(COMMITTED) for p in COMMITTED.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert all((COMMITTED / f).read_bytes() == (tmp_path / f).read_bytes() for f in files)
    assert {f.parts[0] for f in files if len(f.parts) > 1} == {"native", "otlp"}
    size = sum(p.stat().st_size for p in COMMITTED.rglob("*") if p.is_file())
    assert size <= 4 * 2**20


def test_inventory_has_the_six_agents_and_the_cicd_declared_scores():
    agents = load_inventory(COMMITTED / "agents.yaml")
    assert set(agents) == {"cicd-assistant", "support-agent", "data-analyst", "sre-agent", "mail-assistant",
                           "research-agent"}
    cicd = agents["cicd-assistant"]
    assert dict(cicd.declared) == {"access": 5, "action": 4, "autonomy": 4, "oversight": 1,
                                   "goal_stability": 3, "monitoring": 2}
    assert cicd.business_value == 5
    for agent in agents.values():
        assert agent.owner and agent.purpose and agent.allowed_tools and agent.approval_required
        assert set(agent.approval_required) <= set(agent.allowed_tools)
        assert agent.approval_keys


def test_every_event_passes_the_native_decoder_and_normalizer(sample):
    now = datetime(2027, 1, 1, tzinfo=UTC)
    for sid, events in sample[2].items():
        for event in events:
            where = Location("native", "x.jsonl", 0, event["seq"])
            (raw,) = decode_native(event, where)
            row = normalize_event(raw, where, now=now)
            assert row["flags"] == [] and row["session_id"] == sid
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))


def test_labels_cover_every_session_and_every_scenario(sample):
    _, summary, sessions, labels = sample
    assert set(labels) == set(sessions)
    seen = {(label, name) for label, name in labels.values()}
    assert {(1, name) for name in INCIDENTS} <= seen
    assert {(0, name) for name in HARD_NEGATIVES} <= seen
    assert all(label == 0 for label, name in labels.values() if name not in INCIDENTS)
    assert set(summary["incidents"]) == set(INCIDENTS)
    assert set(summary["hard_negatives"]) == set(HARD_NEGATIVES)


def test_every_agent_plays_every_scenario_it_has_a_script_for(sample):
    _, _, sessions, labels = sample
    played = defaultdict(set)
    for sid, (_, name) in labels.items():
        played[name].add(sessions[sid][0]["agent_id"])
    for name in [*INCIDENTS, *HARD_NEGATIVES]:
        assert played[name] == set(players(name)), name


def test_nothing_in_the_events_gives_the_label_away(sample):
    root, _, sessions, _ = sample
    blob = b"".join(gzip.decompress(p.read_bytes()) for p in (root / "native").rglob("*.gz")).lower()
    for word in [*INCIDENTS, *HARD_NEGATIVES, "hard_negative", "scenario", "incident", "malicious",
                 "attacker", "injection", "forged", "runaway", "exfil", "ransom"]:
        assert word.encode() not in blob, word
    assert all(UUID4.match(sid) for sid in sessions)


def test_incidents_run_at_the_same_hours_as_normal_sessions(sample):
    _, _, sessions, labels = sample
    def hour(sid):
        return int(sessions[sid][0]["ts"][11:13])
    normal_hours = {hour(sid) for sid, (label, _) in labels.items() if label == 0}
    assert all(hour(sid) in normal_hours for sid, (label, _) in labels.items() if label == 1)


def test_valid_approvals_verify_and_match_their_call(sample):
    _, _, sessions, labels = sample
    keys = load_inventory(sample[0] / "agents.yaml")
    checked = 0
    for sid, events in sessions.items():
        if labels[sid][1] == "forged_approval":
            continue
        by_id = {e["tool_call_id"]: e for e in calls(events)}
        for approval in approvals_by_call(events).values():
            call = by_id[approval["tool_call_id"]]
            attrs = approval["attrs"]
            assert attrs["summary"] == summarize_action(call["tool_name"], call["tool_args"])
            public = keys[approval["agent_id"]].approval_keys[attrs["key_id"]]
            assert verify_b64(public, attrs["summary"], attrs["signature"])
            checked += 1
    assert checked > 20


def test_legitimate_sessions_approve_every_sensitive_call(sample):
    _, _, sessions, labels = sample
    agents = load_inventory(sample[0] / "agents.yaml")
    sensitive = 0
    for sid, events in sessions.items():
        if labels[sid][0] == 1:
            continue
        approved = approvals_by_call(events)
        required = agents[events[0]["agent_id"]].approval_required
        for call in calls(events):
            if call["tool_name"] in required:
                sensitive += 1
                assert call["tool_call_id"] in approved, (sid, call["tool_name"])
    assert sensitive > 100


def test_forged_approvals_fail_verification(sample):
    keys = load_inventory(sample[0] / "agents.yaml")
    for events in of_scenario(sample, "forged_approval"):
        bad = [a for a in approvals_by_call(events).values()
               if not verify_b64(keys[a["agent_id"]].approval_keys[a["attrs"]["key_id"]], a["attrs"]["summary"],
                                 a["attrs"]["signature"])]
        assert bad


def test_injection_sinks_carry_entities_first_seen_in_a_tool_result(sample):
    for events in of_scenario(sample, "prompt_injection"):
        prompted, from_results, steered = set(), set(), set()
        for event in events:
            found = set(ENTITY.findall(event.get("text") or ""))
            if event["event_type"] == "user_prompt":
                prompted |= found
            elif event["event_type"] == "tool_result":
                from_results |= found - prompted
            elif event["event_type"] == "tool_call" and event["tool_name"] in SINKS:
                steered |= set(ENTITY.findall(orjson.dumps(event["tool_args"]).decode())) & from_results
        assert steered - prompted


def test_runaway_delegation_is_deep(sample):
    _, _, sessions, labels = sample
    parent = {sid: events[0].get("parent_session_id") for sid, events in sessions.items()}
    def depth(sid):
        return 0 if parent[sid] is None else 1 + depth(parent[sid])
    runaway = [sid for sid, (_, name) in labels.items() if name == "runaway_delegation"]
    assert max(depth(sid) for sid in runaway) >= 3
    for sid in runaway:
        if parent[sid] is not None:
            spawns = [e for e in sessions[parent[sid]] if e["event_type"] == "agent_spawn"]
            assert sid in {e["attrs"]["child_session_id"] for e in spawns}
    wide = [sid for sid, (_, name) in labels.items() if name == "hard_negative_wide_research"]
    assert max(depth(sid) for sid in wide) == 1


def test_tool_loop_repeats_identical_calls(sample):
    for events in of_scenario(sample, "tool_loop"):
        repeats = Counter((c["tool_name"], orjson.dumps(c["tool_args"])) for c in calls(events))
        assert max(repeats.values()) >= 10
    for events in of_scenario(sample, "hard_negative_deploy_polling"):
        repeats = Counter((c["tool_name"], orjson.dumps(c["tool_args"])) for c in calls(events))
        assert 5 <= max(repeats.values()) < 10


def test_telemetry_dark_sessions_log_only_calls(sample):
    for events in of_scenario(sample, "telemetry_dark"):
        kinds = Counter(e["event_type"] for e in events)
        assert kinds["tool_call"] >= 4
        assert not kinds["reasoning"] and not kinds["tool_result"] and not kinds["llm_response"]
        assert not any(e.get("input_tokens") for e in events)


def test_destructive_scenarios_destroy_without_approval(sample):
    for name, pattern in (("db_wipe", r"^(drop|delete|truncate)"), ("file_deletion", r"rm -rf|^/workspace")):
        for events in of_scenario(sample, name):
            approved = approvals_by_call(events)
            destructive = [c for c in calls(events)
                           if any(re.search(pattern, str(v)) for v in c["tool_args"].values())
                           and c["tool_name"] in ("run_statement", "delete_file", "run_shell")]
            assert len(destructive) >= 2 and not any(c["tool_call_id"] in approved for c in destructive)
    for events in of_scenario(sample, "hard_negative_approved_migration"):
        approved = approvals_by_call(events)
        statements = [c for c in calls(events) if c["tool_name"] == "run_statement"]
        assert any(c["tool_args"]["sql"].startswith("drop") for c in statements)
        assert all(c["tool_call_id"] in approved for c in statements)


def test_extortion_runs_recon_escalation_exfiltration_and_note(sample):
    for events in of_scenario(sample, "extortion"):
        text = " ".join(str(c["tool_args"]) for c in calls(events))
        for step in ("id; hostname", "AdministratorAccess", "s3 sync", "curl -s -T", "BTC", "crontab"):
            assert step in text


def test_unapproved_actions_skip_a_required_approval(sample):
    agents = load_inventory(sample[0] / "agents.yaml")
    for events in of_scenario(sample, "unapproved_action"):
        required = agents[events[0]["agent_id"]].approval_required
        approved = approvals_by_call(events)
        assert any(c["tool_name"] in required and c["tool_call_id"] not in approved for c in calls(events))


def test_scope_creep_touches_resources_outside_the_declared_scope(sample):
    agents = load_inventory(sample[0] / "agents.yaml")
    outside = re.compile(r"secret|vault|hr\.|payroll|credentials|prod-eu|iam ")
    for events in of_scenario(sample, "scope_creep"):
        scope = agents[events[0]["agent_id"]].scope
        args = " ".join(str(c["tool_args"]) for c in calls(events))
        tables = re.findall(r"(?:from|join) ([a-z_]+\.[a-z_]+)", args)
        foreign = [t for t in tables if not any(fnmatch(t, pattern) for pattern in scope["tables"])]
        assert foreign or outside.search(args)


def test_goal_drift_edits_files_the_prompt_never_mentioned(sample):
    for events in of_scenario(sample, "goal_drift"):
        prompt = events[0]["text"]
        edits = [c["tool_args"]["path"] for c in calls(events) if c["tool_name"] == "edit_file"]
        assert len(edits) >= 4 and all(path.rsplit("/", 1)[1] not in prompt for path in edits)


def test_hard_negatives_look_unusual_but_are_legitimate(sample):
    for events in of_scenario(sample, "hard_negative_task_change"):
        prompts = [e for e in events if e["event_type"] == "user_prompt"]
        assert len(prompts) == 2 and prompts[0]["actor"] == prompts[1]["actor"]
    for events in of_scenario(sample, "hard_negative_new_payee"):
        (pay,) = [c for c in calls(events) if c["tool_name"] == "schedule_payment"]
        assert pay["tool_args"]["iban"] in events[0]["text"]
        assert pay["tool_call_id"] in approvals_by_call(events)


def test_ibans_carry_valid_check_digits():
    import random

    rng = random.Random(3)
    values = [iban(rng, country) for country in ("DE", "GB", "NL", "LT", "FR") for _ in range(20)]
    assert all(iban_is_valid(v) for v in values)
    assert not iban_is_valid(values[0][:4] + ("1" if values[0][4] != "1" else "2") + values[0][5:])
