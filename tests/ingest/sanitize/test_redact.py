"""Secret masking: every secret type is masked plain, JSON-escaped and inside URLs or tool arguments;
masked JSON still parses; fingerprints are stable and keyed; look-alikes stay untouched."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import re
import uuid

import orjson
import polars as pl
import pytest

from agentwatch.ingest.sanitize.redact import DETECT_PATTERN, mask_bytes, mask_frame, mask_text
from agentwatch.ingest.sanitize.secret_rules import RULES

KEY = b"test-key"
LABEL = re.compile(r"\[REDACTED:([a-z_]+):([0-9a-f]{12})\]")

PEM = "\n".join(
    [
        "-----BEGIN RSA PRIVATE KEY-----",
        "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
        "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK",
        "LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo",
        "-----END RSA PRIVATE KEY-----",
    ]
)
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
# type -> (the secret, how it is written in context)
SECRETS = {
    "aws_access_key": ("AKIAQ3EGRZ7XKV5M2PLD", "{}"),
    "aws_secret_key": ("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", "aws_secret_access_key={}"),
    "github_token": ("ghp_R8kQ2vX9mN4pL7wT1zY6bC3dF5gH0jK2sA9e", "{}"),
    "gitlab_token": ("glpat-x7Yk2P9qRt4Lm8Nw3Vb6", "{}"),
    "slack_token": ("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "{}"),
    "slack_webhook": ("T024BE7LD/B01ABCD2EFG/pQ8rS2tU4vW6xY8zA1bC3dE5", "https://hooks.slack.com/services/{}"),
    "stripe_key": ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "{}"),
    "openai_key": ("sk-proj-Ab3De5Gh7Jk9Mn2Pq4St6Vw8Yz0Bc1Df3Gh5Jk7", "{}"),
    "anthropic_key": ("sk-ant-api03-Xy9Zw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe-AbCdEfGh_AA", "{}"),
    "google_api_key": ("AIzaSyD3x9Kq2Lm8Np4Rt7Vw1Yz5Bc6Df0Gh2Jk", "{}"),
    "jwt": (JWT, "{}"),
    "private_key": (PEM, "{}"),
    "url_password": ("Xy7%23pq9Lm2", "postgres://app:{}@db.internal:5432/prod"),
    "password": ("hunter2!Zq", "password={}"),
    "generic_secret": ("9f8e7d6c5b4a39281706f5e4", "api_key={}"),
}


def fingerprint_in(text: str | bytes, key: bytes = KEY) -> str:
    """The fingerprint of the first label in masked text."""
    masked = mask_bytes(text, key)[0].decode("utf-8", "replace") if isinstance(text, bytes) else mask_text(text, key)[0]
    return LABEL.search(masked).group(2)


def in_context(kind: str) -> str:
    secret, template = SECRETS[kind]
    return template.format(secret)


def plain(kind: str) -> str:
    return f"Deploy log: using {in_context(kind)} for prod."


def json_escaped(kind: str) -> str:
    return orjson.dumps({"output": f'$ cat .env\n{in_context(kind)}\n"done"\tok', "code": 0}).decode()


def nested_json(kind: str) -> str:
    inner = orjson.dumps({"config": in_context(kind), "note": 'say "hi"'}).decode()
    return orjson.dumps({"body": inner}).decode()


def tool_args(kind: str) -> str:
    command = f"curl -sS -H 'Accept: json' --data '{in_context(kind)}' https://api.example.com/v1"
    return orjson.dumps({"command": command, "timeout": 30}).decode()


def in_url(kind: str) -> str:
    if kind in ("url_password", "slack_webhook"):
        return f"GET {in_context(kind)} -> 200"
    return f"GET https://api.example.com/cb?page=2&{in_context(kind)}&x=1 -> 200"


ENCODINGS = {"plain": plain, "json_escaped": json_escaped, "nested_json": nested_json, "tool_args": tool_args}
CASES = [(kind, name) for kind in SECRETS for name in ENCODINGS] + [
    (kind, "url") for kind in SECRETS if kind != "private_key"
]


def secret_parts(kind: str) -> list[str]:
    """What must be gone after masking: the secret, or each body line of a PEM block."""
    secret = SECRETS[kind][0]
    return [line for line in secret.splitlines() if "-----" not in line] if kind == "private_key" else [secret]


def build(kind: str, encoding: str) -> str:
    return in_url(kind) if encoding == "url" else ENCODINGS[encoding](kind)


@pytest.mark.parametrize(("kind", "encoding"), CASES)
def test_each_secret_type_is_masked_in_each_encoding(kind: str, encoding: str) -> None:
    text = build(kind, encoding)
    masked, count = mask_text(text, KEY)
    assert count == 1
    assert [m.group(1) for m in LABEL.finditer(masked)] == [kind]
    assert not any(part in masked for part in secret_parts(kind))


JSON_CASES = [(kind, encoding) for kind, encoding in CASES if encoding in ("json_escaped", "nested_json", "tool_args")]


@pytest.mark.parametrize(("kind", "encoding"), JSON_CASES)
def test_masked_json_still_parses_and_holds_no_secret(kind: str, encoding: str) -> None:
    masked, _ = mask_text(build(kind, encoding), KEY)
    decoded = orjson.loads(masked)
    as_text = str(decoded) + (str(orjson.loads(decoded["body"])) if encoding == "nested_json" else "")
    assert not any(part in as_text for part in secret_parts(kind))
    assert "[REDACTED:" in as_text


def test_json_style_assignments_mask_the_value_only() -> None:
    text = orjson.dumps({"user": "bob", "password": "s3cret-Pw", "client_secret": "Zx81kQmP0aLs92Jd"}).decode()
    masked, count = mask_text(text, KEY)
    assert count == 2
    assert orjson.loads(masked)["user"] == "bob"
    assert orjson.loads(masked)["password"].startswith("[REDACTED:password:")
    assert orjson.loads(masked)["client_secret"].startswith("[REDACTED:generic_secret:")


def test_json_style_assignment_inside_an_escaped_json_string() -> None:
    text = orjson.dumps({"body": orjson.dumps({"password": "s3cret-Pw", "user": "bob"}).decode()}).decode()
    masked, count = mask_text(text, KEY)
    assert count == 1
    inner = orjson.loads(orjson.loads(masked)["body"])
    assert inner["user"] == "bob"
    assert inner["password"].startswith("[REDACTED:password:")


def test_authorization_header_in_tool_args() -> None:
    command = 'curl -H "Authorization: Bearer 4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c" https://api.example.com'
    masked, count = mask_text(orjson.dumps({"command": command}).decode(), KEY)
    assert count == 1
    assert orjson.loads(masked)["command"].startswith('curl -H "Authorization: Bearer [REDACTED:auth_header:')


def test_url_password_keeps_user_and_host() -> None:
    masked, _ = mask_text("redis://admin:Pa55-w0rd@cache.internal:6379/0", KEY)
    assert re.fullmatch(r"redis://admin:\[REDACTED:url_password:[0-9a-f]{12}\]@cache\.internal:6379/0", masked)


def test_fingerprint_is_the_keyed_hmac_and_stable() -> None:
    secret = SECRETS["github_token"][0]
    expected = hmac.new(KEY, secret.encode(), hashlib.sha256).hexdigest()[:12]
    assert fingerprint_in(f"a {secret} b") == expected
    assert fingerprint_in(f'{{"token": "{secret}"}}') == expected


def test_fingerprint_depends_on_the_key() -> None:
    text = plain("stripe_key")
    assert fingerprint_in(text, b"key-one") != fingerprint_in(text, b"key-two")


def test_a_key_logged_plain_and_json_escaped_gets_one_fingerprint() -> None:
    assert fingerprint_in(PEM) == fingerprint_in(orjson.dumps(PEM).decode())


def test_masking_twice_changes_nothing_more() -> None:
    for kind, encoding in CASES:
        masked, _ = mask_text(build(kind, encoding), KEY)
        assert mask_text(masked, KEY) == (masked, 0), (kind, encoding)


def test_a_pem_block_cut_before_its_end_line_is_still_masked() -> None:
    cut = PEM.rsplit("\n", 2)[0]
    masked, count = mask_text(orjson.dumps({"head": cut}).decode(), KEY)
    assert count == 1
    assert "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun" not in masked
    orjson.loads(masked)


def look_alikes() -> list[str]:
    rng = random.Random(7)
    return [
        str(uuid.UUID(int=rng.getrandbits(128))),
        f"commit {rng.randbytes(20).hex()}",
        f"sha256:{rng.randbytes(32).hex()}",
        f"trace_id={rng.randbytes(16).hex()} span_id={rng.randbytes(8).hex()}",
        base64.b64encode(rng.randbytes(300)).decode(),
        base64.urlsafe_b64encode(rng.randbytes(300)).decode(),
        "Here are the password reset instructions for the new hires.",
        "The secret to fast builds is caching. Bearer tokens expire after one hour.",
        "Set max_tokens: 1024; input_tokens were 1532 and the token budget is 4096.",
        "token = get_token()",
        "password = getpass.getpass('Password: ')",
        "api_key = os.environ['API_KEY']",
        "login(user=user, password=password)",
        'headers = {"Authorization": f"Bearer {token}"}',
        "DB_PASSWORD=${DB_PASSWORD}",
        'password: "{{ vault_db_password }}"',
        "export API_TOKEN=<your-token-here>",
        "Cloned git@github.com:org/repo.git; mail bob@example.com; ssh://git@host/repo",
        "https://example.com:8443/path/to?page=2#frag and https://user@host/x",
        "I ran the risk assessment for task-1234-fix-risk-sk-abcdefghijkl and the desk check passed.",
        '{"usage": {"input_tokens": 10, "output_tokens": 5}, "token_count": 15, "password_policy": "strict"}',
    ]


@pytest.mark.parametrize("text", look_alikes())
def test_look_alikes_are_left_alone(text: str) -> None:
    assert mask_text(text, KEY) == (text, 0)


def test_a_token_inside_a_longer_word_is_left_alone() -> None:
    text = "blobAIzaSyD3x9Kq2Lm8Np4Rt7Vw1Yz5Bc6Df0Gh2Jk and xAKIAQ3EGRZ7XKV5M2PLD"
    assert mask_text(text, KEY) == (text, 0)


def test_a_json_escape_before_a_token_counts_as_a_border() -> None:
    masked, count = mask_text('{"out": "key:\\nAKIAQ3EGRZ7XKV5M2PLD"}', KEY)
    assert count == 1
    assert "AKIA" not in masked


def test_mask_frame_matches_mask_text_and_sums_columns() -> None:
    texts = [build(kind, encoding) for kind, encoding in CASES] + look_alikes() + [None]
    args = [json_escaped("password"), None] + [orjson.dumps({"q": t}).decode() for t in look_alikes()]
    args += ["{}"] * (len(texts) - len(args))
    df = pl.DataFrame({"text": texts, "tool_args": args, "n": range(len(texts))})
    masked, redactions = mask_frame(df, ["text", "tool_args"], KEY)
    assert redactions.dtype == pl.Int32
    assert redactions.len() == df.height
    for i, (text, arg) in enumerate(zip(texts, args, strict=True)):
        expected = [mask_text(v, KEY) if v is not None else (None, 0) for v in (text, arg)]
        assert masked["text"][i] == expected[0][0]
        assert masked["tool_args"][i] == expected[1][0]
        assert redactions[i] == expected[0][1] + expected[1][1]
    assert redactions[0] == 2
    assert masked["n"].to_list() == df["n"].to_list()
    assert df["text"].to_list() == texts


def test_mask_frame_on_a_frame_without_secrets_returns_it_unchanged() -> None:
    df = pl.DataFrame({"text": look_alikes()})
    masked, redactions = mask_frame(df, ["text"], KEY)
    assert masked.equals(df)
    assert redactions.to_list() == [0] * df.height


def test_mask_frame_takes_an_all_null_column() -> None:
    df = pl.DataFrame({"text": [plain("jwt"), None], "attrs": [None, None]})
    masked, redactions = mask_frame(df, ["text", "attrs"], KEY)
    assert redactions.to_list() == [1, 0]
    assert masked["attrs"].to_list() == [None, None]


def test_mask_bytes_keeps_invalid_utf8_and_masks_the_secret() -> None:
    raw = b'{"bad": "\xff\xfe", "env": "GITHUB_TOKEN=' + SECRETS["github_token"][0].encode() + b'"}\xc3'
    masked, count = mask_bytes(raw, KEY)
    assert count == 1
    assert masked.startswith(b'{"bad": "\xff\xfe", "env": "GITHUB_TOKEN=[REDACTED:github_token:')
    assert masked.endswith(b']"}\xc3')
    assert fingerprint_in(raw) == fingerprint_in(plain("github_token"))


def test_mask_bytes_without_secret_returns_the_same_bytes() -> None:
    raw = b"\xff plain bytes \x00 with nothing"
    assert mask_bytes(raw, KEY) == (raw, 0)


def test_every_rule_match_holds_one_of_its_anchors() -> None:
    texts = [build(kind, encoding) for kind, encoding in CASES]
    for rule in RULES:
        for text in texts:
            for match in re.finditer(rule.pattern, text, re.ASCII):
                assert any(anchor in match.group(0).lower() for anchor in rule.anchors), (rule.name, text)


def test_polars_detection_finds_every_row_python_masks() -> None:
    texts = [build(kind, encoding) for kind, encoding in CASES] + look_alikes()
    detected = pl.Series(texts).str.contains(DETECT_PATTERN).to_list()
    for text, hit in zip(texts, detected, strict=True):
        assert hit or mask_text(text, KEY)[1] == 0, text
