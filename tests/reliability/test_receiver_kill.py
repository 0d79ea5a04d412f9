"""Kill -9 of `agentwatch receive` while it spools a request: after a restart no partial file is visible
or left, and everything it acknowledged, before the kill and after, is stored once (issue 25)."""

from __future__ import annotations

import http.client
import random
import threading
import time
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from agentwatch.cli import cli
from agentwatch.ingest.receiver.spool import default_spool_dir, spooled_files
from agentwatch.lake import Lake
from tests.reliability.receiver_support import ReceiverProcess, free_port, span_ids, spans_request, watch_for


def send(port: int, body: bytes) -> int | None:
    """The answer's status; None when the connection broke first (nothing acknowledged)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf"})
        return conn.getresponse().status
    except (ConnectionError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def assert_whole(spool: Path) -> None:
    """Every visible spool file is complete: each of its lines is a JSON document."""
    for path in spooled_files(spool):
        data = path.read_bytes()
        assert data.endswith(b"\n")
        for line in data.splitlines():
            orjson.loads(line)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_kill_9_mid_spool_leaves_nothing_partial_and_loses_nothing_acknowledged(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    lake, port = tmp_path / "lake", free_port()
    spool = default_spool_dir(lake)
    receiver = ReceiverProcess(lake, port, tmp_path / "receiver.log")
    receiver.start()
    small = [spans_request(40, seed=seed * 100 + n, traces=2) for n in range(4)]
    big = spans_request(20_000, seed=seed * 100 + 99, traces=40)  # seconds of decoding: time to be killed in
    acknowledged = []
    try:
        for request in small[:2]:
            assert send(port, request.SerializeToString()) == 200
            acknowledged.append(request)
        answer: dict[str, int | None] = {}
        sender = threading.Thread(target=lambda: answer.update(status=send(port, big.SerializeToString())))
        sender.start()
        partial = next(watch_for(spool, ".*.tmp", 60), None)
        assert partial is not None  # it is spooling the big request now
        time.sleep(rng.uniform(0, 0.3))
        receiver.kill()
        sender.join(30)
        assert answer["status"] is None  # killed before acknowledging it
        assert list(spool.glob(".*.tmp"))  # the fault fired mid-spool: a partial file is left behind
        assert_whole(spool)  # and no partial file is visible

        receiver.start()
        assert not list(spool.glob(".*.tmp"))  # the restart removed it
        assert "removed 1 partial spool files" in (tmp_path / "receiver.log").read_text()
        for request in (big, *small[2:]):  # the exporter retries the big one; the rest follow
            assert send(port, request.SerializeToString()) == 200
            acknowledged.append(request)
    finally:
        receiver.stop()
    assert CliRunner().invoke(cli, ["--lake", str(lake), "ingest"]).exit_code == 0
    rows = dict(Lake(lake).connect().execute("select span_id, count(*) from events group by span_id").fetchall())
    expected = set().union(*(span_ids(r) for r in acknowledged))
    assert rows == dict.fromkeys(expected, 2)  # each acknowledged span once: a tool call and its result
    assert CliRunner().invoke(cli, ["--lake", str(lake), "verify"]).exit_code == 0
