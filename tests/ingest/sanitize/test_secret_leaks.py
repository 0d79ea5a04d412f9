"""Each leak and over-mask the independent review found, one test each, and the independent corpus
(`bench/secret_corpus.py`) planted through real ingest with its figures enforced."""

from __future__ import annotations

import base64
import functools
import re
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from agentwatch.ingest import pipeline
from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.ingest.reader import iter_line_batches, safe_head
from agentwatch.ingest.sanitize.redact import mask_text
from bench.corpus_scan import lake_text, run_corpus
from tests.support.native_lines import line, write_lines

KEY = b"leak-key"
NOW = datetime(2026, 11, 25, tzinfo=UTC)
LABEL = re.compile(r"\[REDACTED:([a-z_0-9]+):[0-9a-f]{12}\]")
AWS_ID, AWS_SECRET = "AKIAQ3EGRZ7XKV5M2PLD", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8RtV3kLm"

LEAKS = {  # text -> the secret that must go
    "password: letmeinwhatever": "letmeinwhatever",
    "then login with password hunter and rotate it": "hunter",
    "the password is dragonshadow for now": "dragonshadow",
    "<config><password>sunshinemonkey</password></config>": "sunshinemonkey",
    "Driver={ODBC Driver 18};Server=db;UID=sa;PWD=letmein;": "letmein",
    "Server=db;Database=app;User Id=sa;Password=falconqwerty;": "falconqwerty",
    "host=db port=5432 dbname=app user=app password=tigershadow": "tigershadow",
    f"key id {AWS_ID} secret {AWS_SECRET}": AWS_SECRET,
    f"User name,Access key ID,Secret access key\nci-bot,{AWS_ID},{AWS_SECRET}\n": AWS_SECRET,
    f"AWS creds follow\n{AWS_SECRET}": AWS_SECRET,
    "app.config['SECRET_KEY'] = 'f3a9c1e2b7d4a6c8e0f1'": "f3a9c1e2b7d4a6c8e0f1",
    "use token 8f7aB3c9D2e1F0a7b6C5 for the deploy": "8f7aB3c9D2e1F0a7b6C5",
    "found hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh in the notebook": "hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh",
    "npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8": "npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "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": "SG.aB3dE5gH7jK9mN1pQ3sT5v",
    "dop_v1_" + "a3" * 32: "dop_v1_" + "a3" * 32,
    "shpat_" + "0f" * 16: "shpat_" + "0f" * 16,
    "whsec_" + "Ab3" * 11: "whsec_" + "Ab3" * 11,
    "pypi-AgEIcHlwaS5vcmc" + "Xy9_" * 20: "pypi-AgEIcHlwaS5vcmc" + "Xy9_" * 20,
    "bot 8123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq": "8123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq",
    f"data:\n  config: {base64.b64encode(f'AWS_SECRET_ACCESS_KEY={AWS_SECRET}'.encode()).decode()}":
        base64.b64encode(f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}".encode()).decode(),
    '{"environment": [{"name": "DB_PASSWORD", "value": "letmeinwhatever"}]}': "letmeinwhatever",
    "service,username,password\nbilling,svc-app,qwertyfalcon\n": "qwertyfalcon",
}  # fmt: skip
KEPT = [  # look-alikes that must stay readable
    "GET /v1/items?page_size=50&page_token=eyJvZmZzZXQiOjIwMCwidHMiOjE3MDB9 200",
    '{"items": [], "next_token": "Q2hBS0RnZ0FFSUNBZ0lDQWdJQ0FnSUEw"}',
    '{"items": [], "nextPageToken": "CiAKGjBpNDd2Nmp4NHp3Y2VmbmZ3Y2VmbmZ3Y2Vm"}',
    '{"Contents": [], "NextToken": "b8Kd2LmQ9xR4tZ7wP1sN3vC6"}',
    '{"SecretId": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/payments/provider-api-key"}',
    "aws secretsmanager get-secret-value --secret-id arn:aws:secretsmanager:eu-west-1:1:secret:ci/github-token-Ab12Cd",
    "secret: prod/payments/provider-api-key",
    "password=${DB_PASS}",
    'password: "{{ .Values.db.password }}"',
    "PASSWORD = %(db_password)s",
    "api_key: <your-api-key>",
    "password = getpass.getpass()",
    "password: required",
    "PWD=/home/agent/repo",
    "Your password must be at least 12 characters.",
    "The token budget for this task is 4096.",
    f"commit {'1f9a3c0d7e2b4a6c8e0f' * 2}",
    "AWS etag d41d8cd98f00b204e9800998ecf8427e",
    "password_policy,min_length\nstrict,12",
]


@pytest.mark.parametrize("text", list(LEAKS), ids=lambda t: t[:40])
def test_each_reported_leak_is_masked(text: str) -> None:
    masked, count = mask_text(text, KEY)
    assert count >= 1 and LEAKS[text] not in masked, masked


@pytest.mark.parametrize("text", KEPT, ids=lambda t: t[:40])
def test_names_cursors_and_templates_are_kept(text: str) -> None:
    assert mask_text(text, KEY) == (text, 0)


def test_an_arn_keeps_its_secret_name_inside_tool_args_json() -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/payments/provider-api-key"
    args = orjson.dumps({"SecretId": arn, "api_key": "q8w9e7r6t5y4u3i2"}).decode()
    masked, count = mask_text(args, KEY)
    assert count == 1 and orjson.loads(masked)["SecretId"] == arn


@pytest.mark.parametrize("text", [t for t in LEAKS if "{" in t and t.startswith("{")])
def test_masked_json_still_parses(text: str) -> None:
    orjson.loads(mask_text(text, KEY)[0])


def test_otlp_bytes_value_and_file_name_secrets_never_reach_the_lake(tmp_path: Path, lake: Path) -> None:
    secret = "ghp_" + "R8kQ2vX9mN4pL7wT1zY6bC3dF5gH0jK2sA9e"
    wrapped = base64.b64encode(f"GITHUB_TOKEN={secret}".encode()).decode()
    attrs = [{"key": k, "value": {"stringValue": v}} for k, v in (("gen_ai.operation.name", "execute_tool"),
             ("gen_ai.tool.name", "http"), ("gen_ai.conversation.id", "c1"))] + [
             {"key": "app.blob", "value": {"bytesValue": wrapped}}]  # fmt: skip
    span = {
        "traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
        "spanId": "00f067aa0ba902b7",
        "name": "t",
        "kind": 1,
        "startTimeUnixNano": "1767225600000000000",
        "endTimeUnixNano": "1767225601000000000",
        "attributes": attrs,
    }
    request = {"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {}, "spans": [span]}]}]}
    (tmp_path / "traces.jsonl").write_bytes(orjson.dumps(request) + b"\n")
    named = write_lines(tmp_path / f"export-{secret}.jsonl", [line(seq=1)])
    ingest_paths(lake, [tmp_path / "traces.jsonl", named], now=NOW)
    found = lake_text(lake)
    assert "[REDACTED:github_token:" in found and "[REDACTED:base64_secret:" in found
    assert secret not in found and wrapped not in found


def test_a_line_over_the_limit_inside_a_chunk_is_quarantined_without_a_token_prefix(
    tmp_path: Path, lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-ant-api03-" + "Xy9Zw8Vu7Ts6Rq5Po4Nm3Lk2" * 4
    long_line = line(seq=2, text="x " * 400 + secret + " " + "y" * 3000)
    src = write_lines(tmp_path / "big.jsonl", [line(seq=1), long_line, line(seq=3)])
    # Small limits stand for 64 MiB and 32 MB: the long line lies wholly inside one chunk, and the kept
    # head would end 20 characters into the secret.
    small = functools.partial(iter_line_batches, chunk_bytes=8000, max_line_bytes=2000)
    monkeypatch.setattr(pipeline, "iter_line_batches", small)
    monkeypatch.setattr("agentwatch.ingest.reader.OVERSIZE_HEAD_BYTES", long_line.index(secret.encode()) + 20)
    (report,) = ingest_paths(lake, [src], now=NOW).files
    assert (report.events_written, report.quarantined) == (2, 1)
    assert secret[:12] not in lake_text(lake)


def test_safe_head_ends_at_a_delimiter() -> None:
    raw = b'{"text": "ok then sk-ant-api03-abcdefghijkl'
    assert safe_head(raw, limit=len(raw) - 3) == b'{"text": "ok then '
    assert safe_head(b"short", limit=100) == b"short"


def test_the_independent_corpus_meets_its_targets() -> None:
    result = run_corpus(seed=20261201, reps=1, oversize=False)
    assert result.missing_from_input == 0
    kept = [ok for _, ok in result.kept_out]
    assert sum(kept) / len(kept) >= 0.99
    kinds = {p.kind for p, _ in result.kept_out}
    for kind in kinds:
        mine = [ok for p, ok in result.kept_out if p.kind == kind]
        assert sum(mine) / len(mine) >= 0.95, kind
    masked = [m for _, m in result.benign_masked]
    assert sum(masked) / len(masked) <= 0.005
    assert result.broken_json == 0


def test_out_of_scope_resources_keep_the_secret_name_an_agent_fetched() -> None:
    from tests.detectors.metrics.metrics_support import agent, run_metrics, session_row
    from tests.support.builders import session, tool_call, user

    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/payments/provider-api-key"
    args = orjson.loads(mask_text(orjson.dumps({"SecretId": arn}).decode(), KEY)[0])  # as ingest stores it
    scoped = agent("payments", scope={"paths": ["/workspace/**"], "hosts": [], "emails": []},
                   allowed_tools=["get_secret_value"])  # fmt: skip
    con = run_metrics(session("payments", user("rotate the staging key"), tool_call("c1", "get_secret_value", args),
                              session_id="s1"), agents=[scoped])  # fmt: skip
    assert session_row(con, "s1")["out_of_scope_resources"] == [f"cloud:{arn}"]
