"""`agentwatch show SESSION`: the session as a timeline an analyst reads in a terminal, evidence marked."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from agentwatch.detectors.metrics.run import run_metrics
from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.lake import Lake
from tests.detectors.metrics.test_agent_transcripts import main_session
from tests.ingest.formats.claude_code.test_side_chains import SESSION, compaction_file, explore_file
from tests.support.native_lines import line, write_lines

EVIL = "\x1b[2J\u202eowned"
LONG = "x" * 300


def story(tmp_path: Path) -> Path:
    """Alice asks to tidy up; the agent deletes /srv (approved by bob), reads a long hostile result and
    starts a sub-agent."""
    steps = [
        line(seq=1, event_id="e1", event_type="user_prompt", actor="alice", text=f"tidy the repo{EVIL}",
             tool_name=None, tool_call_id=None, tool_args=None),
        line(seq=2, event_id="e2", tool_name="bash", tool_call_id="c1", tool_args={"cmd": "rm -rf /srv"}, text=None),
        line(seq=3, event_id="e3", event_type="tool_result", tool_name="bash", tool_call_id="c1", tool_args=None,
             text=LONG, status="error"),
        line(seq=4, event_id="e4", event_type="approval", actor="bob", tool_name=None, tool_call_id="c1",
             tool_args=None, text=None, attrs={"summary": "bash(rm -rf /srv)", "signature": "c2ln", "key_id": "k"}),
        line(seq=5, event_id="e5", event_type="agent_spawn", tool_name=None, tool_call_id=None, tool_args=None,
             text="read the docs", attrs={"child_session_id": "s-2"}),
        line(seq=1, event_id="c-1", session_id="s-2", parent_session_id="s-1", tool_name="read_file",
             tool_call_id="c9", tool_args={"path": "/docs"}, text=None),
    ]
    return write_lines(tmp_path / "story.jsonl", steps)


@pytest.fixture
def story_lake(tmp_path: Path, lake: Path) -> Path:
    ingest_paths(lake, [story(tmp_path)])
    run_metrics(lake, {})
    return lake


def add_scores(lake: Path) -> None:
    """Scores of the detectors' contract shape: one rule reason citing e2, one anomaly reason with none."""
    reason = pa.struct([("kind", pa.string()), ("id", pa.string()), ("level", pa.string()), ("text", pa.string()),
                        ("evidence_event_ids", pa.list_(pa.string()))])
    reasons = [{"kind": "rule", "id": "destructive-action", "level": "critical", "text": f"rm -rf{EVIL}",
                "evidence_event_ids": ["e2", "e3"]},
               {"kind": "anomaly", "id": "anomaly:drift", "level": "high", "text": "unusual", "evidence_event_ids": []}]
    scores = pa.table({"agent_id": ["agent-a"], "session_id": ["s-1"], "anomaly_score": [0.5], "risk_score": [0.95],
                       "flagged": [True], "reasons": pa.array([reasons], pa.list_(reason))})
    with Lake(lake).writer() as w:
        w.replace("session_scores", scores)
        w.commit("test_detections")


def test_the_timeline_reads_like_what_happened(aw, story_lake: Path) -> None:
    add_scores(story_lake)
    code, out, _ = aw("--lake", str(story_lake), "show", "s-1", "--width", "40")
    lines = out.splitlines()
    assert code == 0 and lines[:3] == ["session s-1 of agent agent-a", "2026-11-20 10:00:01 to 2026-11-20 10:00:05 UTC",
                                       "risk 0.95 (FLAGGED), anomaly 0.50"]
    assert lines[4:10] == [
        "timeline (5 events; * marks evidence, [n] the reasons it supports)",
        "     1  10:00:01  user_prompt   alice: tidy the repo\\u001b[2J\\u202eowned",
        '*    2  10:00:02  tool_call     bash({"cmd":"rm -rf /srv"})  (approval: unknown_key by bob)  [1]',
        f"*    3  10:00:03  tool_result   bash ERROR -> {'x' * 40}… (+260 chars)  [1]",
        "     4  10:00:04  approval      bob approves call c1: bash(rm -rf /srv)",
        "     5  10:00:05  agent_spawn   starts sub-agent session s-2: read the docs",
    ]
    assert lines[11:14] == ["reasons (2)",
                            "  [1] critical destructive-action: rm -rf\\u001b[2J\\u202eowned (evidence: #2, #3)",
                            "  [2] high anomaly:drift: unusual"]
    assert lines[15:17] == ["sub-agents (1)", "  s-2 of agent-a: 1 event, 1 tool call, from 2026-11-20 10:00:01"]
    assert "\x1b" not in out and "\u202e" not in out
    assert any(ln.startswith("  count_tool_calls ") and ln.endswith(" 1") for ln in lines)


def test_before_detect_it_says_what_is_missing(aw, tmp_path: Path, lake: Path) -> None:
    ingest_paths(lake, [story(tmp_path)])
    code, out, _ = aw("--lake", str(lake), "show", "s-1")
    lines = out.splitlines()
    assert code == 0 and lines[2] == "no scores yet (run `agentwatch detect` or `agentwatch run`)"
    assert lines[-1] == "no metrics yet (run `agentwatch metrics` or `agentwatch run`)"
    assert not any(ln.startswith("*") for ln in lines)


def test_json_has_everything_uncut_and_ascii(aw, story_lake: Path) -> None:
    add_scores(story_lake)
    code, out, _ = aw("--lake", str(story_lake), "show", "s-1", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and out.isascii()
    assert [e["evidence_of"] for e in doc["timeline"]] == [[], [1], [1], [], []]
    assert doc["timeline"][2]["text"] == LONG and doc["timeline"][0]["text"] == f"tidy the repo{EVIL}"
    assert doc["reasons"][0]["evidence_seqs"] == [2, 3] and doc["scores"]["risk_score"] == 0.95
    assert doc["sub_agents"][0]["session_id"] == "s-2" and doc["metrics"]["count_tool_calls"] == 1


def test_the_sub_agent_names_its_parent(aw, story_lake: Path) -> None:
    code, out, _ = aw("--lake", str(story_lake), "show", "s-2")
    assert code == 0 and out.splitlines()[0] == "session s-2 of agent agent-a, spawned by session s-1"


def test_mistakes_are_answered_plainly(aw, tmp_path: Path, story_lake: Path) -> None:
    code, out, err = aw("--lake", str(story_lake), "show", "nope")
    assert (code, out, err) == (2, "", f"agentwatch: error: no events of session 'nope' in {story_lake}\n")
    code, _, err = aw("--lake", str(story_lake), "show", "s-1", "--agent", "agent-b")
    assert (code, err) == (2, f"agentwatch: error: no events of session 's-1' of agent 'agent-b' in {story_lake}\n")
    ingest_paths(story_lake, [write_lines(tmp_path / "b.jsonl", [line(seq=1, agent_id="agent-b", session_id="s-1")])])
    code, _, err = aw("--lake", str(story_lake), "show", "s-1")
    assert (code, err) == (2, "agentwatch: error: session 's-1' was logged by 2 agents ('agent-a', 'agent-b'); "
                              "choose one in --agent\n")
    code, out, _ = aw("--lake", str(story_lake), "show", "s-1", "--agent", "agent-b")
    assert code == 0 and out.startswith("session s-1 of agent agent-b\n")


def test_a_claude_code_spawn_names_its_child_and_side_chains_stand_apart(aw, tmp_path: Path, lake: Path) -> None:
    logs = tmp_path / "projects"
    ingest_paths(lake, [main_session(logs), explore_file(logs), compaction_file(logs)], fmt="claude_code")
    run_metrics(lake, {})
    code, out, _ = aw("--lake", str(lake), "show", SESSION, "--width", "20")
    lines = out.splitlines()
    spawns = [ln.split("agent_spawn")[1].strip() for ln in lines if "agent_spawn" in ln]
    # the first Task's result names its sub-agent; the second's result names none
    assert code == 0 and spawns == [
        f"starts sub-agent session {SESSION}/agent-a2898e3: Find where the cart … (+17 chars)",
        "starts sub-agent session ?: List the tests of th… (+7 chars)"]
    at = lines.index("sub-agents (1)")
    assert lines[at + 1].startswith(f"  {SESSION}/agent-a2898e3 of claude-code:-home-dev-shop: 2 events, 1 tool call")
    assert lines[at + 3] == "the agent's own side chains, not sub-agents (1)"
    assert lines[at + 4].startswith(f"  {SESSION}/agent-acompact-e1f845 (compaction) of claude-code:-home-dev-shop")
    code, out, _ = aw("--lake", str(lake), "show", f"{SESSION}/agent-acompact-e1f845")
    assert code == 0 and out.splitlines()[0].endswith(f", side chain of session {SESSION}")
