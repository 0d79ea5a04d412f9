"""Secret masking quality and speed.

1. The independent corpus (`bench/secret_corpus.py`: secrets generated from the providers' published
   formats, in every context, plus hard look-alikes) ingested into a fresh lake: per-type and
   per-context share kept out of every lake file, look-alikes masked, masked JSON that breaks.
2. The rules' author's own fixture (below: 15 types in five encodings, clean lines), kept for
   comparison: read it as "no known gaps", not as proof.
3. mask_frame and flag_frame rows/s on a 1M-row frame of agent text, beside a bare polars NDJSON ->
   Parquet round of the same frame.
Run: .venv/bin/python bench/bench_secrets.py [--rows N] [--reps N]
"""

from __future__ import annotations

import argparse
import base64
import random
import string
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agentwatch.ingest.sanitize.hostile import flag_frame  # noqa: E402
from agentwatch.ingest.sanitize.redact import mask_frame  # noqa: E402
from bench.corpus_scan import report, run_corpus  # noqa: E402

KEY = b"bench-key"
SEED = 20261125
ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits
URLSAFE = ALNUM + "_-"
ENCODINGS = ("plain", "json_escaped", "url", "tool_args", "env")


@dataclass(frozen=True)
class Planted:
    """One line holding a secret; `needles` are the parts that must be gone after masking."""

    kind: str
    encoding: str
    line: str
    needles: tuple[str, ...]
    is_json: bool


def rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_jwt(rng: random.Random) -> str:
    header = b64url(orjson.dumps({"alg": rng.choice(["HS256", "RS256"]), "typ": "JWT"}))
    payload = b64url(orjson.dumps({"sub": str(uuid.UUID(int=rng.getrandbits(128))), "iat": 1700000000}))
    return f"{header}.{payload}.{b64url(rng.randbytes(32))}"


def make_pem(rng: random.Random) -> str:
    kind = rng.choice(["RSA ", "EC ", "OPENSSH ", "", "ENCRYPTED "])
    body = base64.b64encode(rng.randbytes(48 * rng.randint(6, 20))).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {kind}PRIVATE KEY-----", *lines, f"-----END {kind}PRIVATE KEY-----"])


def make_password(rng: random.Random) -> str:
    if rng.random() < 0.3:
        word = rng.choice(["Summer", "winter", "Dragon", "monkey", "Tr0ub4dor", "letme"])
        return f"{word}{rng.randint(1, 9999)}{rng.choice('!#@?')}"
    return rng.choice(ALNUM) + rand(rng, ALNUM + "!#%*-_.~@", rng.randint(9, 19))


# kind -> (make secret, variable name an env file or JSON would use)
SECRETS: dict[str, tuple[Callable[[random.Random], str], str]] = {
    "aws_access_key": (lambda r: r.choice(["AKIA", "ASIA"]) + rand(r, UPPER_DIGITS, 16), "AWS_ACCESS_KEY_ID"),
    "aws_secret_key": (lambda r: rand(r, ALNUM + "/+", 40), "AWS_SECRET_ACCESS_KEY"),
    "github_token": (
        lambda r: (
            r.choice(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]) + rand(r, ALNUM, 36)
            if r.random() < 0.7
            else f"github_pat_{rand(r, ALNUM, 22)}_{rand(r, ALNUM, 59)}"
        ),
        "GITHUB_TOKEN",
    ),
    "gitlab_token": (lambda r: "glpat-" + rand(r, URLSAFE, 20), "GITLAB_TOKEN"),
    "slack_token": (
        lambda r: (
            f"{r.choice(['xoxb', 'xoxp', 'xoxa'])}-{rand(r, string.digits, 12)}-{rand(r, ALNUM, 24)}"
            if r.random() < 0.8
            else f"xapp-1-A{rand(r, UPPER_DIGITS, 10)}-{rand(r, string.digits, 13)}-{rand(r, ALNUM, 32)}"
        ),
        "SLACK_BOT_TOKEN",
    ),
    "slack_webhook": (
        lambda r: (
            f"https://hooks.slack.com/services/T{rand(r, UPPER_DIGITS, 8)}/B{rand(r, UPPER_DIGITS, 8)}/"
            + rand(r, ALNUM, 24)
        ),
        "SLACK_WEBHOOK_URL",
    ),
    "stripe_key": (lambda r: r.choice(["sk_live_", "rk_live_", "sk_test_"]) + rand(r, ALNUM, 24), "STRIPE_KEY"),
    "openai_key": (
        lambda r: "sk-" + rand(r, ALNUM, 48) if r.random() < 0.5 else "sk-proj-" + rand(r, URLSAFE, 120),
        "OPENAI_API_KEY",
    ),
    "anthropic_key": (lambda r: "sk-ant-api03-" + rand(r, URLSAFE, 93) + "AA", "ANTHROPIC_API_KEY"),
    "google_api_key": (lambda r: "AIza" + rand(r, URLSAFE, 35), "GOOGLE_API_KEY"),
    "jwt": (make_jwt, "SESSION_JWT"),
    "private_key": (make_pem, "PRIVATE_KEY"),
    "url_password": (make_password, "DATABASE_URL"),
    "password": (make_password, "DB_PASSWORD"),
    "generic_secret": (lambda r: rand(r, ALNUM, r.randint(24, 40)), "SERVICE_API_KEY"),
}


def needles_of(kind: str, secret: str) -> tuple[str, ...]:
    if kind == "private_key":
        return tuple(line for line in secret.splitlines() if "-----" not in line)
    if kind == "slack_webhook":
        return (secret.rsplit("/", 1)[1],)
    return (secret,)


def in_context(kind: str, secret: str, name: str, rng: random.Random) -> str:
    """The secret as a program or a person would write it next to its name."""
    if kind == "url_password":
        user = rng.choice(["admin", "app", "svc_etl", ""])
        scheme = rng.choice(["postgres", "mysql", "redis", "https", "amqp"])
        return f"{scheme}://{user}:{secret}@db-{rng.randint(1, 9)}.internal:5432/app"
    if kind in ("password", "generic_secret", "aws_secret_key"):
        key = rng.choice([name, name.lower(), "password" if kind == "password" else "api_key"])
        return rng.choice([f"{key}={secret}", f'{key}: "{secret}"', f"{key} = {secret}", f'"{key}": "{secret}"'])
    return secret


def encode(kind: str, encoding: str, secret: str, name: str, rng: random.Random) -> tuple[str, bool]:
    """Place a secret in one of the encodings agent telemetry carries it in; True when the line is JSON."""
    ctx = in_context(kind, secret, name, rng)
    if encoding == "plain":
        return rng.choice(["I found {} in the config.", "Using {} for the deploy", "{}"]).format(ctx), False
    if encoding == "json_escaped":
        return orjson.dumps({"output": f"$ cat .env\n{ctx}\nDEBUG=1", "exit_code": 0}).decode(), True
    if encoding == "url":
        if kind in ("url_password", "slack_webhook"):
            return f"curl -sS {ctx}", False
        param = {"password": "password", "generic_secret": "api_key", "aws_secret_key": "aws_secret_key"}
        return f"GET https://api.example.com/v1/items?page=2&{param.get(kind, 'access_token')}={secret} 200", False
    if encoding == "tool_args":
        return orjson.dumps(tool_args(kind, secret, name, ctx, rng)).decode(), True
    quote = '"' if kind == "private_key" else rng.choice(["", '"', "'"])
    return f"export {name}={quote}{env_value(kind, secret, ctx)}{quote}", False


def env_value(kind: str, secret: str, ctx: str) -> str:
    """What an environment variable holds: the whole URL for a connection string, else the secret."""
    return ctx if kind == "url_password" else secret


def tool_args(kind: str, secret: str, name: str, ctx: str, rng: random.Random) -> dict:
    if kind in ("private_key", "url_password", "slack_webhook") or rng.random() < 0.5:
        return {"path": "/tmp/out.txt", "content": f"# generated\n{ctx}\n", "env": {name: env_value(kind, secret, ctx)}}
    header = "Authorization: Bearer " if kind not in ("password", "aws_secret_key") else f"{name}: "
    return {"command": f"curl -H '{header}{secret}' https://api.example.com/v1", "timeout": 30}


def planted_lines(rng: random.Random, per_cell: int) -> list[Planted]:
    out = []
    for kind, (make, name) in SECRETS.items():
        for encoding in ENCODINGS:
            for _ in range(per_cell):
                secret = make(rng)
                line, is_json = encode(kind, encoding, secret, name, rng)
                out.append(Planted(kind, encoding, line, needles_of(kind, secret), is_json))
    return out


PROSE = [
    "Here are the password reset instructions for the staging users.",
    "The token budget for this task is 4096; input_tokens were 1532.",
    "Rotate the API key every 90 days and store the secret in Vault.",
    "Bearer tokens expire after one hour; refresh them with the refresh flow.",
    "I ran the risk assessment for task-1234 and the desk-check passed.",
    "Our Asia-Pacific region uses the AKIA prefix convention for key ids.",
    "The secret to fast builds is caching; password policy is documented.",
    "Set max_tokens: 1024 and temperature: 0.2 for the summarizer.",
    "See https://docs.example.com/guide?section=auth#tokens for details.",
    "Cloned git@github.com:org/repo.git at commit {sha}.",
    "Uploaded artifact sha256:{sha256} to the registry.",
    "The tokenizer split the prompt into 812 tokens.",
    "Your password must be at least 12 characters and include a symbol.",
    "The user asked to reset the secret question; no password was shared.",
]
CODE = [
    "token = get_token()",
    "password = getpass.getpass('Password: ')",
    "api_key = os.environ['API_KEY']",
    'headers = {"Authorization": f"Bearer {token}"}',
    "if not password:\n    raise ValueError('password required')",
    "secret = load_secret(name=secret_name)",
    "client = OpenAI(api_key=api_key)",
    "const token = process.env.GITHUB_TOKEN;",
    "DB_PASSWORD=${DB_PASSWORD}",
    'password: "{{ vault_db_password }}"',
    "def check_token(token: str) -> bool:",
    "for token in tokenizer.encode(text):",
    "export API_TOKEN=<your-token-here>",
    "login(user=user, password=password)",
]


def clean_lines(rng: random.Random, n: int) -> list[str]:
    makers: list[Callable[[], str]] = [
        lambda: str(uuid.UUID(int=rng.getrandbits(128))),
        lambda: f"commit {rng.randbytes(20).hex()}",
        lambda: f"sha256:{rng.randbytes(32).hex()}",
        lambda: f"trace_id={rng.randbytes(16).hex()} span_id={rng.randbytes(8).hex()}",
        lambda: base64.b64encode(rng.randbytes(rng.randint(30, 300))).decode(),
        lambda: b64url(rng.randbytes(rng.randint(30, 300))),
        lambda: fill(rng.choice(PROSE), rng),
        lambda: rng.choice(CODE),
        lambda: orjson.dumps(
            {
                "usage": {"input_tokens": rng.randint(1, 9999), "output_tokens": 12},
                "trace_id": rng.randbytes(16).hex(),
                "token_count": 5,
            }
        ).decode(),
        lambda: f"https://github.com/org/repo/blob/{rng.randbytes(20).hex()}/src/app.py?plain=1#L12",
        lambda: f"task-{rng.randint(1, 9999)}-fix-risk-sk-{rand(rng, string.ascii_lowercase, 12)}",
    ]
    return [rng.choice(makers)() for _ in range(n)]


def score(planted: list[Planted], clean: list[str]) -> None:
    df = pl.DataFrame({"line": [p.line for p in planted] + clean})
    masked, redactions = mask_frame(df, ["line"], KEY)
    out, counts = masked["line"].to_list(), redactions.to_list()
    hits, totals, broken = Counter(), Counter(), 0
    for p, text, count in zip(planted, out, counts, strict=False):
        totals[p.kind] += 1
        hits[p.kind] += count > 0 and not any(n in text for n in p.needles)
        broken += p.is_json and not parses(text)
    print(f"{'type':16} recall")
    for kind in SECRETS:
        print(f"{kind:16} {hits[kind] / totals[kind]:7.2%}  ({hits[kind]}/{totals[kind]})")
    print(f"overall recall   {sum(hits.values()) / len(planted):7.2%}  over {len(planted)} planted")
    flagged = sum(c > 0 for c in counts[len(planted) :])
    print(f"false positives  {flagged / len(clean):7.3%}  ({flagged} of {len(clean)} clean lines)")
    print(f"JSON broken      {broken}")


def parses(text: str) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


def agent_frame(rng: random.Random, rows: int, dense: bool) -> pl.DataFrame:
    """Agent telemetry drawn from a pool of events, 0.5% of them carrying a planted secret. `dense` text
    is all credential talk and credential-shaped code (the slow case); otherwise it is mostly ordinary
    agent narration and tool output with some of both mixed in."""
    pool = 4000
    texts = [agent_text(rng, dense) for _ in range(pool)]
    args = [orjson.dumps(tool_args_clean(rng)).decode() for _ in range(pool)]
    attrs = [orjson.dumps(attrs_clean(rng)).decode() for _ in range(pool)]
    planted = planted_lines(rng, 2)
    for i in rng.sample(range(pool), pool // 200):
        texts[i] = texts[i] + " " + rng.choice(planted).line
    pick = pl.Series(rng.choices(range(pool), k=rows))
    return pl.DataFrame({"text": texts, "tool_args": args, "attrs": attrs})[pick]


NARRATION = [
    "I'll start by reading the failing test to understand what it expects.",
    "Running the test suite now.\n===== 142 passed, 3 skipped in 12.31s =====",
    "The build passed. Next I will update the changelog and open a pull request.",
    "src/\n  app.py\n  models/\n    user.py\n    order.py\ntests/\n  test_app.py",
    "diff --git a/src/app.py b/src/app.py\n@@ -10,7 +10,8 @@ def handler(event):\n-    return None\n+    return {}",
    "Traceback (most recent call last):\n  File \"app.py\", line 12, in main\nKeyError: 'user_id'",
    "The customer asked for a refund on order {n}; policy allows it within 30 days.",
    "Found 3 matches in docs/guide.md for 'retry backoff'.",
    "Fetched https://example.com/docs/api/v2/orders?page={n} (200 OK, 14 kB).",
    "Summary: the migration adds an index on orders(created_at) and backfills 1.2M rows.",
    "Done — the “retry” flag is now on by default ✅ and the docs say so.",
    "Résumé of the café order: 2× croissant, 1× latte (€7.40).",
]


def agent_text(rng: random.Random, dense: bool) -> str:
    """One response or tool result: a few parts, from credential talk and code or ordinary narration."""
    if dense:
        parts = rng.choices(PROSE + CODE, k=rng.randint(2, 12))
    else:
        weights = [8] * len(NARRATION) + [1] * (len(PROSE) + len(CODE))
        parts = rng.choices(NARRATION + PROSE + CODE, weights=weights, k=rng.randint(2, 12))
    return " ".join(fill(part, rng) for part in parts)


def fill(template: str, rng: random.Random) -> str:
    """Random hashes and numbers into a template's `{sha}`, `{sha256}` and `{n}`."""
    for slot, value in (("{sha}", rng.randbytes(20).hex()), ("{sha256}", rng.randbytes(32).hex())):
        template = template.replace(slot, value)
    return template.replace("{n}", str(rng.randint(1, 99999)))


def tool_args_clean(rng: random.Random) -> dict:
    return rng.choice(
        [
            {"command": f"git log --oneline -n {rng.randint(1, 50)} && pytest -q tests/", "timeout": 120},
            {"path": f"/repo/src/module_{rng.randint(1, 500)}.py", "content": rng.choice(CODE)},
            {"url": f"https://api.example.com/v1/items?page={rng.randint(1, 9)}&limit=50"},
            {"query": "select * from users where id = $1", "params": [rng.randint(1, 10**6)]},
        ]
    )


def attrs_clean(rng: random.Random) -> dict:
    return {
        "gen_ai.usage.input_tokens": rng.randint(1, 20000),
        "gen_ai.usage.output_tokens": rng.randint(1, 4000),
        "gen_ai.request.max_tokens": 4096,
        "trace_id": rng.randbytes(16).hex(),
        "request_id": str(uuid.UUID(int=rng.getrandbits(128))),
        "cwd": "/home/agent/repo",
    }


def throughput(rng: random.Random, rows: int, dense: bool) -> None:
    df = agent_frame(rng, rows, dense)
    start = time.perf_counter()
    _, redactions = mask_frame(df, ["text", "tool_args", "attrs"], KEY)
    took = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "events.ndjson"
        df.write_ndjson(src)
        start = time.perf_counter()
        pl.read_ndjson(src).write_parquet(Path(tmp) / "events.parquet", compression="zstd")
        bare = time.perf_counter() - start
    print(
        f"{'dense' if dense else 'mixed'} text: mask_frame over {rows:,} rows x 3 columns"
        f" ({df.estimated_size() / 1e6:.0f} MB): {took:.2f} s = {rows / took:,.0f} rows/s;"
        f" {int((redactions > 0).sum()):,} rows with secrets, {int(redactions.sum()):,} masked;"
        f" bare read_ndjson + write_parquet of the same frame {bare:.2f} s (masking = {took / bare:.2f}x of it)"
    )
    start = time.perf_counter()
    flags = flag_frame(df, ["text", "tool_args", "attrs"])
    took = time.perf_counter() - start
    print(
        f"  flag_frame over the same columns: {took:.2f} s = {rows / took:,.0f} rows/s ({took / bare:.2f}x of bare);"
        f" {int((flags.list.len() > 0).sum()):,} rows flagged"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the throughput frame")
    parser.add_argument("--per-cell", type=int, default=16, help="planted secrets per type and encoding")
    parser.add_argument("--reps", type=int, default=2, help="independent corpus: secrets per type and context")
    args = parser.parse_args()
    start = time.perf_counter()
    report(run_corpus(SEED, args.reps, oversize=True))
    print(f"(corpus built, ingested and scanned in {time.perf_counter() - start:.1f} s)\n")
    print("the rules' author's own fixture:")
    rng = random.Random(SEED)
    score(planted_lines(rng, args.per_cell), clean_lines(rng, 12_000))
    throughput(rng, args.rows, dense=False)
    throughput(rng, args.rows, dense=True)


if __name__ == "__main__":
    main()
