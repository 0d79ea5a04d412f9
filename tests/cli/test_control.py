"""keygen, approve, gate, resume and escalate as a team wires them in: real processes, real exit codes."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import orjson
import yaml
from click.testing import CliRunner

from agentwatch.cli import cli
from agentwatch.detectors.metrics.run import run_metrics
from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.inventory import load_inventory
from agentwatch.lake import Lake
from tests.detectors.escalate.escalation_support import alert, write_alerts
from tests.support.native_lines import event, write_lines

AGENTWATCH = Path(sys.executable).parent / "agentwatch"


def aw(*args: str, lake: Path | None = None) -> subprocess.CompletedProcess:
    """The installed command in its own process (exit codes as a pipeline sees them)."""
    prefix = ["--lake", str(lake)] if lake else []
    return subprocess.run([str(AGENTWATCH), *prefix, *args], capture_output=True, text=True, timeout=120)


def aw_fast(*args: str, lake: Path) -> subprocess.CompletedProcess:
    """The same command in this process (click's runner), for the many calls of one story."""
    result = CliRunner().invoke(cli, ["--lake", str(lake), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, "")


def test_keygen_writes_a_private_key_only_its_owner_reads(tmp_path):
    done = aw("keygen", "--out", str(tmp_path / "keys" / "alice-2026"))
    assert done.returncode == 0, done.stderr
    private, public = tmp_path / "keys" / "alice-2026.key", tmp_path / "keys" / "alice-2026.pub"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public.read_text().strip() in done.stdout
    assert sorted(p.name for p in private.parent.iterdir()) == ["alice-2026.key", "alice-2026.pub"]  # no temp left
    again = aw("keygen", "--out", str(tmp_path / "keys" / "alice-2026"))
    assert again.returncode == 2
    assert again.stderr.startswith("agentwatch: error: refusing to overwrite an existing key file in ")


def test_approve_ingest_verify_round_trip(tmp_path):
    assert aw("keygen", "--out", str(tmp_path / "alice-2026")).returncode == 0
    public = (tmp_path / "alice-2026.pub").read_text().strip()
    inventory = tmp_path / "agents.yaml"
    inventory.write_text(yaml.safe_dump({"agents": [{
        "agent_id": "deployer", "business_value": 3, "approval_required": ["deploy"],
        "declared": dict.fromkeys(("access", "action", "autonomy", "oversight", "goal_stability", "monitoring"), 3),
        "approval_keys": {"alice-2026": public}}]}))
    args = {"env": "prod", "ref": "a1b2c3"}
    common = ("--key", str(tmp_path / "alice-2026.key"), "--agent", "deployer", "--session", "s1")
    by_summary = aw("approve", *common, "--tool-call-id", "c1", "--summary", "deploy(env=prod, ref=a1b2c3)")
    by_args = aw("approve", *common, "--tool-call-id", "c2", "--tool-name", "deploy", "--args", orjson.dumps(args))
    assert by_summary.returncode == by_args.returncode == 0, by_summary.stderr + by_args.stderr
    approval_1, approval_2 = (orjson.loads(p.stdout) for p in (by_summary, by_args))
    assert approval_1["event_type"] == "approval" and approval_1["attrs"]["key_id"] == "alice-2026"
    assert by_summary.stdout.isascii()
    call = {"agent_id": "deployer", "session_id": "s1", "event_type": "tool_call", "tool_name": "deploy",
            "tool_args": args}
    lines = [
        orjson.dumps(event(1, **call, tool_call_id="c1")), orjson.dumps({**approval_1, "seq": 2}),
        orjson.dumps(event(3, **call, tool_call_id="c2")), orjson.dumps({**approval_2, "seq": 4}),
        orjson.dumps(event(5, **{**call, "tool_args": {"env": "prod", "ref": "evil"}}, tool_call_id="c3")),
        orjson.dumps({**approval_2, "seq": 6, "tool_call_id": "c3", "event_id": "copied"}),  # replayed onto c3
    ]
    lake = tmp_path / "lake"
    report = ingest_paths(lake, [write_lines(tmp_path / "log.jsonl", lines)])
    assert report.files[0].quarantined == 0
    run_metrics(lake, load_inventory(inventory))
    found = Lake(lake).connect().execute(
        "select tool_call_id, approval_outcome from steps where event_type = 'tool_call' order by seq").fetchall()
    assert found == [("c1", "approved"), ("c2", "approved"), ("c3", "summary_mismatch")]


def test_approve_without_a_summary_or_a_readable_key_is_a_usage_error(tmp_path):
    (tmp_path / "k.key").write_text("not a key")
    done = aw("approve", "--key", str(tmp_path / "k.key"), "--tool-call-id", "c1", "--agent", "a", "--session", "s",
              "--summary", "x")
    assert (done.returncode, done.stderr.split(":")[:2]) == (2, ["agentwatch", " error"])
    assert str(tmp_path / "k.key") in done.stderr
    done = aw("approve", "--key", str(tmp_path / "k.key"), "--tool-call-id", "c1", "--agent", "a", "--session", "s")
    assert done.returncode == 2 and "give --summary" in done.stderr


def test_gate_pause_resume(tmp_path):
    lake = tmp_path / "lake"
    assert aw("gate", "--agent", "cicd-assistant", lake=lake).returncode == 2  # no lake: a mistake, not a pass
    write_alerts(lake, alert("k1", agent_id="cicd-assistant"))
    free = aw_fast("gate", "--agent", "cicd-assistant", lake=lake)
    assert (free.returncode, free.stdout.strip()) == (0, "agent cicd-assistant is not paused")
    books = tmp_path / "playbooks.yml"
    books.write_text("playbooks:\n  - {id: stop, match: {levels: [critical]}, actions: [pause: {}]}\n")
    escalated = aw_fast("escalate", "--playbooks", str(books), lake=lake)
    assert escalated.returncode == 0 and "1 ok" in escalated.stdout, escalated.stdout + escalated.stderr
    paused = aw("gate", "--agent", "cicd-assistant", lake=lake)  # the real exit code 1
    assert paused.returncode == 1
    assert "is PAUSED since 20" in paused.stdout and "by agentwatch escalate (stop)" in paused.stdout
    assert "Approval signature does not verify (alert k1)" in paused.stdout
    assert aw_fast("gate", "--agent", "support-agent", lake=lake).returncode == 0
    resumed = aw_fast("resume", "--agent", "cicd-assistant", "--by", "maria.lopez@acme.com", lake=lake)
    assert resumed.returncode == 0 and "resumed by maria.lopez@acme.com" in resumed.stdout
    assert aw_fast("gate", "--agent", "cicd-assistant", lake=lake).returncode == 0
    nothing = aw_fast("resume", "--agent", "cicd-assistant", "--by", "x", lake=lake)
    assert "not paused: nothing recorded" in nothing.stdout
    rows = Lake(lake).connect().execute('select state, "by" from control order by "at"').fetchall()
    assert rows == [("paused", "agentwatch escalate (stop)"), ("resumed", "maria.lopez@acme.com")]
    again = aw_fast("escalate", "--playbooks", str(books), lake=lake)  # the alert was acted on: no second pause
    assert "0 actions due (1 settled earlier)" in again.stdout
    assert aw_fast("gate", "--agent", "cicd-assistant", lake=lake).returncode == 0


def test_escalate_reads_the_playbooks_setting_and_names_mistakes(tmp_path):
    lake = tmp_path / "lake"
    write_alerts(lake, alert("k1"))
    missing = aw("escalate", lake=lake)
    assert missing.returncode == 2 and "no playbooks given" in missing.stderr
    books = tmp_path / "playbooks.yml"
    books.write_text("playbooks:\n  - {id: stop, actions: [pause: {}], when: now}\n")
    bad = aw("--config", str(_config(tmp_path, books)), "escalate", lake=lake)
    assert bad.returncode == 2 and f"in {books}: playbooks[0]" in bad.stderr
    books.write_text("playbooks:\n  - {id: stop, actions: [pause: {}]}\n")
    when = aw("escalate", "--playbooks", str(books), "--not-before", "last tuesday", lake=lake)
    assert when.returncode == 2 and "not an ISO-8601 time: 'last tuesday' in --not-before" in when.stderr


def _config(tmp_path: Path, books: Path) -> Path:
    path = tmp_path / "agentwatch.toml"
    path.write_text(f'playbooks = "{books}"\n')
    return path
