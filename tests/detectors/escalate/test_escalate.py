"""Escalation against a real HTTP receiver on 127.0.0.1 and real processes: once per alert per action,
retries, crash between acting and recording, hanging commands, pause rows, payload shapes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import orjson

from agentwatch.detectors.escalate.playbooks import load_playbooks
from agentwatch.detectors.escalate.run import run_escalations
from agentwatch.lake import Lake
from tests.detectors.escalate.escalation_support import NOW, alert, http_receiver, write_alerts

AGENTWATCH = Path(sys.executable).parent / "agentwatch"


def playbooks(tmp_path: Path, body: str, env: dict[str, str] | None = None):
    path = tmp_path / "playbooks.yml"
    path.write_text(f"playbooks:\n  - id: page\n    actions:\n{body}", encoding="utf-8")
    return load_playbooks(path, env or {})


def webhook(url: str, fmt: str = "json", extra: str = "") -> str:
    return f"      - id: hook\n        backoff_s: 0.01\n        webhook: {{url: '{url}', format: {fmt}{extra}}}\n"


def escalations(lake: Path) -> list[dict]:
    cursor = Lake(lake).connect().execute(
        "select alert_key, action_id, attempt, outcome, dedup_key from escalations order by alert_key, attempt")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_one_post_per_alert_across_two_runs(tmp_path, lake):
    write_alerts(lake, alert("k1"), alert("k2"))
    with http_receiver() as receiver:
        books = playbooks(tmp_path, webhook(receiver.url))
        first = run_escalations(lake, books, now=NOW)
        second = run_escalations(lake, books, now=NOW)
    assert [b["dedup_key"] for b in receiver.bodies()] == ["k1", "k2"]
    assert (first.count_due, first.count_ok, second.count_due, second.count_already_settled) == (2, 2, 0, 2)
    assert [p["headers"]["X-Agentwatch-Dedup-Key"] for p in receiver.posts] == ["k1", "k2"]
    assert [r["outcome"] for r in escalations(lake)] == ["ok", "ok"]


def test_a_500_is_retried_with_backoff_and_the_alert_still_lands_once(tmp_path, lake):
    write_alerts(lake, alert("k1"), alert("k2"))
    waits: list[float] = []
    with http_receiver(500, 503) as receiver:
        books = playbooks(tmp_path, webhook(receiver.url))
        run = run_escalations(lake, books, now=NOW, sleep=waits.append)
        run_escalations(lake, books, now=NOW, sleep=waits.append)
    assert [b["dedup_key"] for b in receiver.bodies()] == ["k1", "k1", "k1", "k2"]
    assert waits == [0.01, 0.02]  # doubling backoff
    assert (run.count_ok, run.count_attempts) == (2, 4)
    assert [(r["alert_key"], r["attempt"], r["outcome"]) for r in escalations(lake)] == [
        ("k1", 1, "failed"), ("k1", 2, "failed"), ("k1", 3, "ok"), ("k2", 1, "ok")]


def test_a_receiver_down_for_a_whole_run_gets_the_alert_next_run(tmp_path, lake):
    write_alerts(lake, alert("k1"))
    with http_receiver(500, 500, 500) as receiver:
        books = playbooks(tmp_path, webhook(receiver.url))
        first = run_escalations(lake, books, now=NOW, sleep=lambda s: None)
        second = run_escalations(lake, books, now=NOW, sleep=lambda s: None)
        third = run_escalations(lake, books, now=NOW, sleep=lambda s: None)
    assert (first.count_failed, second.count_ok, third.count_due) == (1, 1, 0)
    assert [r["attempt"] for r in escalations(lake)] == [1, 2, 3, 4]


def test_a_client_error_is_not_retried(tmp_path, lake):
    write_alerts(lake, alert("k1"))
    with http_receiver(400) as receiver:
        books = playbooks(tmp_path, webhook(receiver.url))
        run = run_escalations(lake, books, now=NOW)
        again = run_escalations(lake, books, now=NOW)
    assert (len(receiver.posts), run.count_gave_up, again.count_due) == (1, 1, 0)
    assert escalations(lake)[0]["outcome"] == "gave_up"


def test_a_redirect_is_not_followed(tmp_path, lake):
    write_alerts(lake, alert("k1"))
    with http_receiver(302) as receiver:
        run = run_escalations(lake, playbooks(tmp_path, webhook(receiver.url)), now=NOW)
    assert (len(receiver.posts), run.count_gave_up) == (1, 1)
    assert escalations(lake)[0]["outcome"] == "gave_up"


def test_a_run_killed_between_acting_and_recording_repeats_only_that_action(tmp_path, lake):
    write_alerts(lake, alert("k1"), alert("k2"))
    with http_receiver() as receiver:
        path = tmp_path / "playbooks.yml"
        path.write_text(f"playbooks:\n  - id: page\n    actions:\n{webhook(receiver.url)}", encoding="utf-8")
        child = subprocess.Popen([str(AGENTWATCH), "--lake", str(lake), "escalate", "--playbooks", str(path)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # the receiver has the POST; the escalating process dies before it can record anything
        receiver.on_post = lambda post: (os.kill(child.pid, signal.SIGKILL), child.wait())
        assert child.wait(timeout=60) == -signal.SIGKILL
        receiver.on_post = None
        assert "escalations" not in Lake(lake).tables()
        run = run_escalations(lake, load_playbooks(path, {}), now=NOW)
    assert [b["dedup_key"] for b in receiver.bodies()] == ["k1", "k1", "k2"]
    assert run.count_ok == 2
    assert [(r["alert_key"], r["attempt"]) for r in escalations(lake)] == [("k1", 1), ("k2", 1)]


def test_closed_alerts_are_not_escalated(tmp_path, lake):
    closed = {"alert_key": "k1", "status": "closed", "by": "ana", "note": "test deploy", "close_reason":
              "false_positive", "at": NOW}
    write_alerts(lake, alert("k1"), alert("k2"), states=[closed])
    with http_receiver() as receiver:
        run_escalations(lake, playbooks(tmp_path, webhook(receiver.url)), now=NOW)
    assert [b["dedup_key"] for b in receiver.bodies()] == ["k2"]


def test_alerts_first_seen_before_not_before_are_left_alone(tmp_path, lake):
    write_alerts(lake, alert("old", first_seen_at=NOW - timedelta(days=30)), alert("new"))
    with http_receiver() as receiver:
        run = run_escalations(lake, playbooks(tmp_path, webhook(receiver.url)), now=NOW,
                              not_before=NOW - timedelta(days=1))
    assert ([b["dedup_key"] for b in receiver.bodies()], run.count_alerts) == (["new"], 1)


def test_nothing_to_do_before_detect_has_written_alerts(tmp_path, lake):
    write_alerts(lake)  # an empty alerts table
    run = run_escalations(lake, playbooks(tmp_path, "      - pause: {}\n"), now=NOW)
    assert (run.count_alerts, run.count_due, run.count_attempts) == (0, 0, 0)


def test_a_hanging_command_is_killed_with_its_children(tmp_path, lake):
    write_alerts(lake, alert("k1"))
    pid_file = tmp_path / "sleeper.pid"
    script = f"sleep 300 & echo $! > {pid_file}; wait"
    action = f"      - attempts: 1\n        command: {{argv: [sh, -c, '{script}'], timeout_s: 0.5}}\n"
    books = playbooks(tmp_path, action)
    started = time.monotonic()
    run = run_escalations(lake, books, now=NOW)
    assert time.monotonic() - started < 10
    assert run.count_failed == 1
    sleeper = int(pid_file.read_text())
    assert not _alive(sleeper)
    (row,) = Lake(lake).connect().execute("select detail from escalations").fetchall()
    assert row[0].startswith("killed after 0.5 s")


def test_a_command_gets_the_alert_as_json_on_stdin(tmp_path, lake):
    write_alerts(lake, alert("k1"))
    out = tmp_path / "stdin.json"
    code = (f"import sys, os; open({str(out)!r}, 'wb').write(sys.stdin.buffer.read()); "
            "print(os.environ['AGENTWATCH_DEDUP_KEY'])")
    books = playbooks(tmp_path, f"      - command: {{argv: [{sys.executable}, -c, \"{code}\"]}}\n")
    assert run_escalations(lake, books, now=NOW).count_ok == 1
    sent = orjson.loads(out.read_bytes())
    assert (sent["dedup_key"], sent["alert"]["alert_key"], sent["alert"]["level"]) == ("k1", "k1", "critical")
    (row,) = Lake(lake).connect().execute("select outcome, detail from escalations").fetchall()
    assert row == ("ok", "exit 0: k1")


def test_a_command_that_cannot_start_gives_up(tmp_path, lake):
    write_alerts(lake, alert("k1"))
    books = playbooks(tmp_path, "      - command: {argv: [/nonexistent/revoke-role]}\n")
    assert run_escalations(lake, books, now=NOW).count_gave_up == 1


def test_pause_appends_a_control_row_once(tmp_path, lake):
    write_alerts(lake, alert("k1", agent_id="cicd-assistant"))
    books = playbooks(tmp_path, "      - pause: {}\n")
    run_escalations(lake, books, now=NOW)
    run_escalations(lake, books, now=NOW)
    rows = Lake(lake).connect().execute('select agent_id, state, "by", reason, alert_key from control').fetchall()
    assert rows == [("cicd-assistant", "paused", "agentwatch escalate (page)", "Approval signature does not verify",
                     "k1")]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")  # a zombie is dead, only not yet reaped by its new parent


def test_every_attempt_is_timestamped_from_the_run_clock(tmp_path, lake):
    write_alerts(lake, alert("k1"))
    run_escalations(lake, playbooks(tmp_path, "      - pause: {}\n"), now=NOW)
    ((at,),) = Lake(lake).connect().execute("select \"at\" from escalations").fetchall()
    assert isinstance(at, datetime) and NOW <= at < NOW.replace(minute=1)
