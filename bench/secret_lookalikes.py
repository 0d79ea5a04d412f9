"""Benign look-alikes for the secret corpus: values shaped like secrets that must stay readable
(hashes, UUIDs, trace ids, pagination cursors, base64 images, ARNs naming a secret, templates, prose)."""

from __future__ import annotations

import base64
import random
import uuid
from collections.abc import Callable

import orjson

from bench.secret_corpus import ALNUM, B64, HEX, pick

PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


def _cursor(rng: random.Random) -> str:
    state = {"offset": rng.randint(0, 10**5), "ts": rng.randint(1_700_000_000, 1_800_000_000), "id": pick(rng, HEX, 8)}
    raw = orjson.dumps(state)
    return (base64.urlsafe_b64encode(raw) if rng.random() < 0.5 else base64.b64encode(raw)).decode().rstrip("=")


def _opaque_cursor(rng: random.Random) -> str:
    return pick(rng, ALNUM, rng.choice([24, 32, 44, 64]))


def _arn(rng: random.Random) -> str:
    name = rng.choice(["prod/payments/provider-api-key", "staging/db/password", "ci/github-token", "svc/api_key"])
    return f"arn:aws:secretsmanager:us-east-1:{rng.randint(10**11, 10**12 - 1)}:secret:{name}-{pick(rng, ALNUM, 6)}"


# kind -> (value that must survive, the line it is written in)
MAKERS: dict[str, Callable[[random.Random], tuple[str, str]]] = {
    "sha1_commit": lambda r: (v := pick(r, HEX, 40), f"commit {v}\nAuthor: dev <dev@example.com>"),
    "sha256": lambda r: (v := pick(r, HEX, 64), f"sha256:{v}  dist/app.tar.gz"),
    "md5_etag": lambda r: (v := pick(r, HEX, 32), f'{{"ETag": "\\"{v}\\"", "Key": "reports/q3.csv"}}'),
    "uuid": lambda r: (v := str(uuid.UUID(int=r.getrandbits(128))), f"request_id={v} status=200"),
    "trace_id": lambda r: (v := pick(r, HEX, 32), f"traceparent: 00-{v}-{pick(r, HEX, 16)}-01"),
    "npm_integrity": lambda r: (v := "sha512-" + base64.b64encode(r.randbytes(64)).decode(), f'"integrity": "{v}"'),
    "page_token": lambda r: (v := _cursor(r), f"GET /v1/items?page_size=50&page_token={v} 200"),
    "next_page_token": lambda r: (v := _cursor(r), f'{{"items": [], "nextPageToken": "{v}"}}'),
    "aws_next_token": lambda r: (
        v := _opaque_cursor(r),
        f'{{"Contents": [], "NextToken": "{v}", "IsTruncated": true}}',
    ),
    "cursor": lambda r: (v := _cursor(r), f'{{"has_more": true, "next_cursor": "{v}"}}'),
    "continuation_token": lambda r: (v := _opaque_cursor(r), f"continuation_token={v}&limit=100"),
    "base64_image": lambda r: (
        v := base64.b64encode(PNG_HEAD + r.randbytes(300)).decode(),
        f"![chart](data:image/png;base64,{v})",
    ),
    "base64_blob": lambda r: (v := base64.b64encode(r.randbytes(r.choice([30, 45, 120]))).decode(), f"payload: {v}"),
    "arn_secret_name": lambda r: (v := _arn(r), f'{{"SecretId": "{v}"}}'),
    "arn_in_args": lambda r: (v := _arn(r), f"aws secretsmanager get-secret-value --secret-id {v}"),
    "secret_path": lambda r: (
        v := r.choice(["prod/payments/provider-api-key", "team/db-creds", "ci/deploy-token"]),
        f"secret: {v}",
    ),
    "aws_request": lambda r: (
        v := base64.b64encode(r.randbytes(57)).decode(),
        f"AWS x-amz-id-2: {v} x-amz-request-id: {pick(r, HEX, 16).upper()}",
    ),
    "stripe_publishable": lambda r: (v := "pk_live_" + pick(r, ALNUM, 24), f"Stripe.setPublishableKey('{v}')"),
    "twilio_account_sid": lambda r: (v := "AC" + pick(r, HEX, 32), f"account_sid = {v}"),
    "template_shell": lambda r: (v := r.choice(["${DB_PASS}", "${API_KEY}", "$SECRET_TOKEN"]), f"password={v}"),
    "template_helm": lambda r: (v := "{{ .Values.db.password }}", f"password: {v}"),
    "template_python": lambda r: (v := "%(db_password)s", f"PASSWORD = {v}"),
    "template_angle": lambda r: (v := "<your-api-key>", f"api_key: {v}"),
    "env_reference": lambda r: (v := 'os.environ["GITHUB_TOKEN"]', f"token = {v}"),
    "getpass": lambda r: (v := "getpass.getpass()", f"password = {v}"),
    "masked_stars": lambda r: (v := "********", f'"password": "{v}"'),
    "prose_password": lambda r: (
        v := r.choice(["reset", "policy", "manager", "must"]),
        f"Your password {v} is described in the wiki.",
    ),
    "prose_token": lambda r: (v := "budget", f"The token {v} for this task is 4096 and max_tokens: 1024."),
    "pwd_env": lambda r: (v := "/home/agent/repo", f"PWD={v}\nOLDPWD=/home/agent"),
    "schema_password": lambda r: (v := "required", f"password: {v}\nusername: required"),
    "docker_digest": lambda r: (v := "sha256:" + pick(r, HEX, 64), f"image: registry.internal/app@{v}"),
    "b64_hash": lambda r: (v := pick(r, B64, 43) + "=", f"content-md5 / x-goog-hash: sha256={v}"),
}


def benign_lines(rng: random.Random, per_kind: int) -> list[tuple[str, str, str]]:
    """(kind, value, line) for every look-alike, `per_kind` of each."""
    out = []
    for kind, make in MAKERS.items():
        for _ in range(per_kind):
            value, text = make(rng)
            out.append((kind, value, text))
    return out
