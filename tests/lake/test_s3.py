"""The lake on S3-compatible object storage, against a local S3 endpoint (moto's server on
127.0.0.1, one per module): ingest, metrics, run, verify, sql and the app's data module over an
s3:// lake give what the same commands give over a local folder; the manifest's conditional puts
and the writer lock hold against a second writer."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import boto3
import duckdb
import orjson
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from agentwatch.cli import run_cli
from agentwatch.errors import LakeError
from agentwatch.lake import Lake
from agentwatch.lake.s3store import S3Store
from agentwatch.lake.verify import verify_lake
from tests.support.paths import ROOT

SAMPLE = ROOT / "data" / "sample"
INVENTORY = SAMPLE / "agents.yaml"
BUCKET = "agentwatch-test"
LAKE = f"s3://{BUCKET}/lake"
# two agents over three days of the sample fleet: small enough for `make test`, with flagged sessions
INPUTS = [SAMPLE / "native" / agent / f"2026-11-{day:02d}.jsonl.gz"
          for agent, days in (("research-agent", (12, 13, 14)), ("cicd-assistant", (19, 20, 21))) for day in days]
PIPELINE = [["ingest", *map(str, INPUTS)], ["metrics"], ["run"]]
SESSIONS = "select agent_id, session_id, flagged, round(risk_score, 6) from sessions order by all"


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local S3 endpoint, with the standard AWS variables pointing at it for the whole module."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "test")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "test")
        patch.setenv("AWS_REGION", "us-east-1")
        patch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
            patch.delenv(name, raising=False)
        home = tmp_path_factory.mktemp("home")  # conftest isolates each test; the module's lake is built before
        patch.setenv("HOME", str(home))
        patch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
        patch.setenv("PREFECT_HOME", str(home / ".prefect"))
        patch.setenv("AGENTWATCH_REDACTION_KEY", "test-key")  # conftest's, for the pipeline the module runs
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@pytest.fixture(scope="module")
def piped(endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list]:
    """The same pipeline over the s3:// lake and over a local folder: exit codes and the sessions."""
    local = tmp_path_factory.mktemp("local") / "lake"
    out: dict[str, list] = {}
    for name, lake in (("s3", LAKE), ("local", str(local))):
        codes = [run_cli(["--lake", lake, "--inventory", str(INVENTORY), *argv]) for argv in PIPELINE]
        out[name] = [codes, Lake(lake).connect().sql(SESSIONS).fetchall()]
    return out


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run_cli(["--lake", LAKE, *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def objects(prefix: str = "lake/") -> list[str]:
    pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def test_pipeline_on_s3_gives_what_it_gives_on_a_local_folder(piped: dict[str, list]) -> None:
    assert piped["s3"][0] == [0, 0, 0]
    assert piped["local"][0] == [0, 0, 0]
    sessions = piped["s3"][1]
    assert sessions == piped["local"][1]
    assert len(sessions) > 20 and any(row[2] for row in sessions)


def test_the_lake_lives_in_the_bucket_and_the_working_folder_holds_no_data(piped: dict[str, list]) -> None:
    keys = objects()
    assert "lake/_manifest/00000001.json" in keys and not any(k.startswith("lake/_lock") for k in keys)
    assert any(k.startswith("lake/events/") and k.endswith(".parquet") for k in keys)
    assert any(k.startswith("lake/sessions/") for k in keys)
    work = S3Store(LAKE).root
    assert not [p for p in work.rglob("*") if p.suffix in (".parquet", ".json")]


def test_verify_passes_then_catches_a_tampered_object(piped: dict[str, list], capsys) -> None:
    code, out, _ = cli(capsys, "verify")
    assert code == 0 and out.startswith("verify ok:")
    key = next(k for k in objects("lake/sessions/") if k.endswith(".parquet"))
    s3 = boto3.client("s3")
    original = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    s3.put_object(Bucket=BUCKET, Key=key, Body=original[:-9] + b"tampered!")
    try:
        code, out, err = cli(capsys, "verify")
        assert code != 0 and out.startswith("verify FAILED:") and " 1 problems" in out
        assert f"{key.removeprefix('lake/')}: content changed" in err
    finally:
        s3.put_object(Bucket=BUCKET, Key=key, Body=original)
    assert verify_lake(LAKE).problems == ()


def test_sql_answers_and_reads_nothing_outside_the_lake_tables(piped: dict[str, list], capsys) -> None:
    code, out, _ = cli(capsys, "sql", "select count(*) as n from sessions where flagged")
    assert code == 0 and f"{sum(1 for row in piped['local'][1] if row[2])}" in out
    boto3.client("s3").put_object(Bucket=BUCKET, Key="other/secret.csv", Body=b"a\n1\n")
    con = Lake(LAKE).connect()
    for outside in (f"s3://{BUCKET}/other/secret.csv", f"{LAKE}/_manifest/00000001.json", str(INVENTORY)):
        code, _, err = cli(capsys, "sql", f"select * from read_text('{outside}')")
        assert code == 2 and "reading files is refused" in err
        with pytest.raises(duckdb.PermissionException, match="disabled by configuration"):
            con.sql(f"select * from read_text('{outside}')")


def test_app_data_reads_the_s3_lake(piped: dict[str, list], monkeypatch: pytest.MonkeyPatch) -> None:
    from agentwatch.app import data

    monkeypatch.setenv("AGENTWATCH_LAKE", LAKE)
    src = data.current_source()
    assert src.lake == LAKE and src.head == Lake(LAKE).head()
    assert {"events", "sessions", "alerts", "agents"} <= set(data.views(src))
    assert data.query(src, SESSIONS).to_pylist() == [
        dict(zip(("agent_id", "session_id", "flagged", "round(risk_score, 6)"), row, strict=True))
        for row in piped["local"][1]]


def test_a_second_put_of_a_manifest_entry_is_refused(piped: dict[str, list]) -> None:
    s3 = boto3.client("s3")
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=BUCKET, Key="lake/_manifest/00000001.json", Body=b"{}", IfNoneMatch="*")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    with pytest.raises(LakeError, match="committed by another writer"):
        S3Store(LAKE).create("_manifest/00000001.json", b"{}")
    assert verify_lake(LAKE).problems == ()


def test_a_lock_held_by_another_writer_refuses_a_second_one(piped: dict[str, list], capsys) -> None:
    with S3Store(LAKE).lock():
        with pytest.raises(LakeError, match="another agentwatch process is writing this lake"):
            S3Store(LAKE).lock().__enter__()
        code, _, err = cli(capsys, "ingest", str(INPUTS[0]))
        assert code == 2 and "another agentwatch process is writing this lake" in err
    assert "lake/_lock" not in objects()


def test_an_expired_lock_is_taken_over_and_its_old_owner_leaves_it(piped: dict[str, list]) -> None:
    crashed, taker = S3Store(LAKE, lock_ttl=0), S3Store(LAKE)
    with crashed.lock():
        time.sleep(0.01)
        with taker.lock():
            held = orjson.loads(boto3.client("s3").get_object(Bucket=BUCKET, Key="lake/_lock")["Body"].read())
            assert held["expires_at"] > time.time() + 3600
        assert "lake/_lock" not in objects()


def test_an_uploaded_but_uncommitted_object_is_a_leftover_the_next_writer_removes(piped: dict[str, list]) -> None:
    lake = Lake(LAKE)
    key = f"events/part-{len(lake.entries()) + 1:08d}-0000.parquet"
    boto3.client("s3").put_object(Bucket=BUCKET, Key=f"lake/{key}", Body=b"not yet committed")
    found = verify_lake(lake)
    assert found.problems == () and any(line.startswith(key) for line in found.leftovers)
    with lake.writer():
        pass
    assert f"lake/{key}" not in objects() and verify_lake(lake).leftovers == ()


def test_the_masking_key_stays_in_the_local_working_folder(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTWATCH_REDACTION_KEY")
    lake = f"s3://{BUCKET}/keyed"
    assert run_cli(["--lake", lake, "ingest", str(INPUTS[0])]) == 0
    assert (S3Store(lake).root / "_keys" / "redaction.key").stat().st_mode & 0o777 == 0o600
    keys = objects("keyed/")
    assert "keyed/_manifest/00000001.json" in keys and not [k for k in keys if "_keys" in k]
