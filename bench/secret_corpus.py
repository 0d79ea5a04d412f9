"""An independent secret corpus: secrets generated from the providers' published formats (alphabet,
length, prefix — never from our rules' regexes), placed in every context agent telemetry carries them
in, and written as real input files (native JSON Lines, OTLP/JSON traces, file names, an oversized
line) for `bench_secrets.py` to ingest into a lake and look for afterwards.

Each secret type names the format it follows; contexts are how programs and people write secrets:
prose, env files, JSON-escaped tool output, URLs, YAML, XML, connection strings, tool arguments, OTLP
attributes of every kind (string, array, kvlist, bytes), base64-wrapped manifests, file names, and
the head of a line too long to store. Benign look-alikes (hashes, UUIDs, trace ids, pagination cursors,
base64 images, ARNs naming secrets, templates) are planted beside them: they must survive.
"""

from __future__ import annotations

import base64
import random
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

LOWER, UPPER, DIGITS = string.ascii_lowercase, string.ascii_uppercase, string.digits
ALNUM = LOWER + UPPER + DIGITS
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"
BECH32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"


@dataclass(frozen=True)
class Planted:
    """A secret put somewhere; every needle must be absent from every lake file."""

    kind: str
    context: str
    needles: tuple[str, ...]


def pick(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _pem(rng: random.Random) -> str:
    kind = rng.choice(["RSA ", "EC ", "OPENSSH ", ""])
    body = base64.b64encode(rng.randbytes(rng.choice([121, 270, 600]))).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {kind}PRIVATE KEY-----", *lines, f"-----END {kind}PRIVATE KEY-----"])


def _jwt(rng: random.Random) -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(obj)).rstrip(b"=").decode()

    claims = {"sub": pick(rng, ALNUM, 12), "exp": rng.randint(1_700_000_000, 1_900_000_000), "scope": "read write"}
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.{pick(rng, URLSAFE, 43)}"


def _password(rng: random.Random) -> str:
    """Passwords people choose: words run together (letters only, the hard case), or mixed."""
    words = ["letmein", "dragon", "sunshine", "monkey", "shadow", "qwerty", "hunter", "falcon", "whatever", "tiger"]
    if rng.random() < 0.5:
        return "".join(rng.sample(words, 2))
    return rng.choice(words).capitalize() + str(rng.randint(10, 9999)) + rng.choice("!#*@")


# type -> (published format, generator). The formats are the providers' documented shapes.
FORMATS: dict[str, tuple[str, Callable[[random.Random], str]]] = {
    "aws_access_key": (
        "AKIA/ASIA + 16 upper-case or digits",
        lambda r: r.choice(["AKIA", "ASIA"]) + pick(r, UPPER + DIGITS, 16),
    ),
    "aws_secret_key": ("40 base64 characters", lambda r: pick(r, B64, 40)),
    "github_classic": (
        "ghp_/gho_/ghs_ + 36 alphanumerics",
        lambda r: r.choice(["ghp_", "gho_", "ghs_"]) + pick(r, ALNUM, 36),
    ),
    "github_fine_grained": (
        "github_pat_ + 22 + _ + 59",
        lambda r: f"github_pat_{pick(r, ALNUM, 22)}_{pick(r, ALNUM, 59)}",
    ),
    "gitlab_pat": ("glpat- + 20 URL-safe", lambda r: "glpat-" + pick(r, URLSAFE, 20)),
    "slack_bot": (
        "xoxb-<n>-<n>-<24>",
        lambda r: f"xoxb-{pick(r, DIGITS, 12)}-{pick(r, DIGITS, 13)}-{pick(r, ALNUM, 24)}",
    ),
    "slack_webhook": (
        "hooks.slack.com/services/T../B../24",
        lambda r: (
            f"https://hooks.slack.com/services/T{pick(r, UPPER + DIGITS, 10)}/B{pick(r, UPPER + DIGITS, 10)}/"
            + pick(r, ALNUM, 24)
        ),
    ),
    "stripe_secret": (
        "sk_live_/rk_live_ + 24..99",
        lambda r: r.choice(["sk_live_", "rk_live_"]) + pick(r, ALNUM, r.choice([24, 99])),
    ),
    "stripe_webhook": ("whsec_ + 32 alphanumerics", lambda r: "whsec_" + pick(r, ALNUM, 32)),
    "openai": (
        "sk-proj- + 156 URL-safe, or sk- + 48",
        lambda r: "sk-proj-" + pick(r, URLSAFE, 156) if r.random() < 0.5 else "sk-" + pick(r, ALNUM, 48),
    ),
    "anthropic": ("sk-ant-api03- + 93 + AA", lambda r: "sk-ant-api03-" + pick(r, URLSAFE, 93) + "AA"),
    "google_api": ("AIza + 35 URL-safe", lambda r: "AIza" + pick(r, URLSAFE, 35)),
    "huggingface": ("hf_ + 34 letters", lambda r: "hf_" + pick(r, LOWER + UPPER, 34)),
    "npm": ("npm_ + 36 alphanumerics", lambda r: "npm_" + pick(r, ALNUM, 36)),
    "sendgrid": ("SG. + 22 + . + 43 URL-safe", lambda r: f"SG.{pick(r, URLSAFE, 22)}.{pick(r, URLSAFE, 43)}"),
    "digitalocean": ("dop_v1_ + 64 hex", lambda r: r.choice(["dop_v1_", "doo_v1_"]) + pick(r, HEX, 64)),
    "shopify": ("shpat_/shpss_ + 32 hex", lambda r: r.choice(["shpat_", "shpss_", "shpca_"]) + pick(r, HEX, 32)),
    "pypi": (
        "pypi-AgEIcHlwaS5vcmc + macaroon",
        lambda r: "pypi-AgEIcHlwaS5vcmc" + pick(r, URLSAFE, r.randint(70, 180)),
    ),
    "telegram_bot": (
        "<bot id>:<35 URL-safe starting with A>",
        lambda r: f"{r.randint(10**7, 10**10)}:AA{pick(r, URLSAFE, 33)}",
    ),
    "twilio": ("SK + 32 hex", lambda r: "SK" + pick(r, HEX, 32)),
    "mailgun": ("key- + 32 hex", lambda r: "key-" + pick(r, HEX, 32)),
    "databricks": ("dapi + 32 hex", lambda r: "dapi" + pick(r, HEX, 32)),
    "age": ("AGE-SECRET-KEY-1 + 58 bech32", lambda r: "AGE-SECRET-KEY-1" + pick(r, BECH32, 58)),
    "vault": ("hvs. + 90..100 URL-safe", lambda r: "hvs." + pick(r, URLSAFE, r.randint(90, 100))),
    "groq": ("gsk_ + 52 alphanumerics", lambda r: "gsk_" + pick(r, ALNUM, 52)),
    "azure_storage": ("AccountKey= 88 base64", lambda r: pick(r, B64, 86) + "=="),
    "jwt": ("three base64url parts", _jwt),
    "private_key": ("PEM block", _pem),
    "password": ("chosen by a person", _password),
    "generic_api_key": ("32 alphanumerics under a key name", lambda r: pick(r, ALNUM, 32)),
}
# Types that are only a secret beside their name (the rest carry a published prefix).
NAMED_ONLY = {"password", "generic_api_key", "aws_secret_key", "azure_storage"}
ENV_NAME = {"password": "DB_PASSWORD", "generic_api_key": "PAYMENTS_API_KEY", "aws_secret_key": "AWS_SECRET_ACCESS_KEY"}


def needles_of(kind: str, secret: str) -> tuple[str, ...]:
    """What must be gone: the secret, or for a PEM block each of its body lines."""
    if kind == "private_key":
        return tuple(line for line in secret.splitlines() if "-----" not in line)
    if kind == "slack_webhook":
        return (secret.rsplit("/", 1)[1],)
    return (secret,)


def named(kind: str, secret: str, rng: random.Random, sep: str = "=") -> str:
    """The secret after its name, as an env file or a config would hold it."""
    if kind == "azure_storage":
        account = f"acct{rng.randint(1, 99)}"
        suffix = "EndpointSuffix=core.windows.net"
        return f"DefaultEndpointsProtocol=https;AccountName={account};AccountKey={secret};{suffix}"
    name = ENV_NAME.get(kind, kind.upper() + "_TOKEN")
    return f"{name}{sep}{secret}"


def in_prose(kind: str, secret: str, rng: random.Random) -> str:
    if kind == "password":
        return rng.choice(
            [
                "Log in with password {s} and change it after.",
                "the password is {s} for now",
                "Password: {s}",
                "use the admin password {s} on staging",
            ]
        ).format(s=secret)
    if kind == "aws_secret_key":
        key_id = "AKIA" + pick(rng, UPPER + DIGITS, 16)
        return rng.choice([f"key id {key_id} secret {secret}", f"{key_id}\n{secret}", f"AWS creds: {secret}"])
    if kind in NAMED_ONLY:
        return f"I found {named(kind, secret, rng)} in the old config."
    return rng.choice(["Here is the key: {s} (do not share)", "use token {s}", "{s}", "found `{s}` in history"]).format(
        s=secret
    )


def in_yaml(kind: str, secret: str, rng: random.Random) -> str:
    key = {"password": "password", "aws_secret_key": "aws_secret_access_key"}.get(kind, "api_key")
    if kind == "azure_storage":
        return f'storage:\n  connection: "{named(kind, secret, rng)}"\n'
    return f"database:\n  host: db.internal\n  {key}: {secret}\n  pool: 5\n"


def in_xml(kind: str, secret: str, rng: random.Random) -> str:
    if kind == "azure_storage":
        return f'<add name="Storage" connectionString="{named(kind, secret, rng)}" />'
    tag = {"password": "password", "aws_secret_key": "SecretAccessKey"}.get(kind, "apiKey")
    return f"<config><user>svc</user><{tag}>{secret}</{tag}></config>"


def in_connection_string(kind: str, secret: str, rng: random.Random) -> str:
    if kind == "azure_storage":
        return named(kind, secret, rng)
    if kind != "password":
        return (
            f"Server=api.internal;Token={secret};Timeout=30"
            if kind in NAMED_ONLY
            else f"endpoint=https://api.internal;key={secret}"
        )
    return rng.choice(
        [
            f"Driver={{ODBC Driver 18}};Server=db;Database=app;UID=sa;PWD={secret};",
            f"Server=db;Database=app;User Id=sa;Password={secret};",
            f"host=db port=5432 dbname=app user=app password={secret}",
            f"postgresql://app:{secret}@db.internal:5432/app",
        ]
    )


def in_url(kind: str, secret: str, rng: random.Random) -> str:
    if kind == "slack_webhook":
        return f"POST {secret} 200"
    if kind == "password":
        return f"https://svc:{secret}@git.internal/repo.git"
    param = {"aws_secret_key": "aws_secret_access_key", "azure_storage": "account_key"}.get(kind, "api_key")
    return f"GET https://api.example.com/v2/orders?page=3&{param}={secret}&limit=50 200"


def in_env(kind: str, secret: str, rng: random.Random) -> str:
    quote = rng.choice(["", '"', "'"]) if kind != "private_key" else '"'
    if kind == "azure_storage":
        return f'AZURE_STORAGE_CONNECTION_STRING="{named(kind, secret, rng)}"'
    return (
        f"HOME=/home/agent\nexport {ENV_NAME.get(kind, kind.upper() + '_TOKEN')}={quote}{secret}{quote}\nLANG=C.UTF-8"
    )


def in_csv(kind: str, secret: str, rng: random.Random) -> str:
    if kind == "aws_secret_key":
        return f"User name,Access key ID,Secret access key\nci-bot,AKIA{pick(rng, UPPER + DIGITS, 16)},{secret}\n"
    if kind in NAMED_ONLY:
        column = {"password": "password", "azure_storage": "connection_string"}.get(kind, "api_key")
        value = named(kind, secret, rng) if kind == "azure_storage" else secret
        return f"service,username,{column},owner\nbilling,svc-app,{value},ops\n"
    return f"service,credential,owner\nbilling,{secret},ops\n"


TEXT_CONTEXTS: dict[str, Callable[[str, str, random.Random], str]] = {
    "prose": in_prose,
    "env": in_env,
    "yaml": in_yaml,
    "xml": in_xml,
    "connection_string": in_connection_string,
    "url": in_url,
    "csv": in_csv,
}


def native_event(seq: int, **fields: object) -> bytes:
    base = {"ts": f"2026-11-20T10:{seq // 60 % 60:02d}:{seq % 60:02d}Z", "agent_id": "corpus-agent",
            "session_id": f"s-{seq // 50}", "seq": seq, "event_type": "tool_result", "tool_name": "bash",
            "tool_call_id": f"call-{seq}"}  # fmt: skip
    base.update(fields)
    return orjson.dumps(base)


def _otlp_value(kind: str, value: object) -> dict:
    if kind == "bytes":
        return {"bytesValue": base64.b64encode(str(value).encode()).decode()}
    if kind == "array":
        return {"arrayValue": {"values": [{"stringValue": "--verbose"}, {"stringValue": str(value)}]}}
    if kind == "kvlist":
        return {"kvlistValue": {"values": [{"key": "host", "value": {"stringValue": "db"}},
                                           {"key": "auth", "value": {"stringValue": str(value)}}]}}  # fmt: skip
    return {"stringValue": str(value)}


def otlp_line(seq: int, attributes: list[tuple[str, str, object]]) -> bytes:
    """One ExportTraceServiceRequest with one execute_tool span carrying the given (key, kind, value)."""
    attrs = [{"key": "gen_ai.operation.name", "value": {"stringValue": "execute_tool"}},
             {"key": "gen_ai.tool.name", "value": {"stringValue": "http"}},
             {"key": "gen_ai.tool.call.id", "value": {"stringValue": f"otlp-{seq}"}},
             {"key": "gen_ai.conversation.id", "value": {"stringValue": f"conv-{seq // 40}"}}]  # fmt: skip
    attrs += [{"key": key, "value": _otlp_value(kind, value)} for key, kind, value in attributes]
    start = 1_763_632_800_000_000_000 + seq * 1_000_000_000
    span = {"traceId": uuid.UUID(int=seq + 1).hex, "spanId": f"{seq + 1:016x}", "name": "execute_tool http", "kind": 1,
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 5_000_000),
            "attributes": attrs}  # fmt: skip
    service = [{"key": "service.name", "value": {"stringValue": "corpus"}}]
    request = {"resourceSpans": [{"resource": {"attributes": service},
                                  "scopeSpans": [{"scope": {"name": "corpus"}, "spans": [span]}]}]}  # fmt: skip
    return orjson.dumps(request)


def _tool_args(kind: str, secret: str, rng: random.Random) -> dict:
    if kind == "private_key":
        return {"path": "/home/agent/.ssh/id_ed25519", "content": secret}
    if kind in NAMED_ONLY:
        return {
            "command": "deploy --stage prod",
            "env": {ENV_NAME.get(kind, "AZURE_CONN"): named(kind, secret, rng).split("=", 1)[1]},
        }
    return rng.choice(
        [
            {"url": "https://api.example.com/v1/run", "headers": {"Authorization": f"Bearer {secret}"}},
            {"command": f"curl -sS -H 'X-Api-Key: {secret}' https://api.example.com/v1/run"},
            {"env": {"SERVICE_TOKEN": secret}, "command": "make release"},
        ]
    )


def _otlp_attributes(kind: str, secret: str, attr_kind: str, rng: random.Random) -> list[tuple[str, str, object]]:
    value = named(kind, secret, rng) if kind in NAMED_ONLY else secret
    key = {"password": "db.password", "aws_secret_key": "aws.secret_access_key"}.get(kind, "app.credential")
    return [(key if attr_kind == "string" else "app.config", attr_kind, value)]


def plant_record(
    kind: str, make: Callable[[random.Random], str], rng: random.Random, seq: int
) -> list[tuple[str, bytes, Planted]]:
    """One secret per context for one type: (file, line, what was planted)."""
    out = []
    for context, render in TEXT_CONTEXTS.items():
        secret = make(rng)
        out.append(
            (
                "native",
                native_event(seq + len(out), text=render(kind, secret, rng)),
                Planted(kind, context, needles_of(kind, secret)),
            )
        )
    secret = make(rng)
    doc = orjson.dumps({"stdout": in_env(kind, secret, rng), "exit_code": 0}).decode()
    out.append(
        ("native", native_event(seq + len(out), text=doc), Planted(kind, "json_escaped", needles_of(kind, secret)))
    )
    secret = make(rng)
    args = _tool_args(kind, secret, rng)
    out.append(
        (
            "native",
            native_event(seq + len(out), event_type="tool_call", tool_args=args),
            Planted(kind, "tool_args", needles_of(kind, secret)),
        )
    )
    secret = make(rng)
    env_list = {"containerDefinitions": [{"environment": [{"name": ENV_NAME.get(kind, "API_TOKEN"), "value": secret}]}]}
    out.append(
        (
            "native",
            native_event(seq + len(out), attrs=env_list),
            Planted(kind, "name_value_fields", needles_of(kind, secret)),
        )
    )
    secret = make(rng)
    wrapped = base64.b64encode((named(kind, secret, rng) if kind in NAMED_ONLY else secret).encode()).decode()
    manifest = f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ndata:\n  config: {wrapped}\n"
    out.append(
        (
            "native",
            native_event(seq + len(out), text=manifest),
            Planted(kind, "base64_wrapped", (wrapped, *needles_of(kind, secret))),
        )
    )
    secret = make(rng)
    bad = orjson.dumps({"ts": "yesterday-ish", "agent_id": "corpus-agent", "text": in_env(kind, secret, rng)})
    out.append(("native", bad, Planted(kind, "quarantined_record", needles_of(kind, secret))))
    for attr_kind in ("string", "array", "kvlist", "bytes"):
        secret = make(rng)
        attributes = _otlp_attributes(kind, secret, attr_kind, rng)
        needles = needles_of(kind, secret)
        if attr_kind == "bytes":
            needles = (_otlp_value("bytes", attributes[0][2])["bytesValue"], *needles)
        out.append(("otlp", otlp_line(seq + len(out), attributes), Planted(kind, f"otlp_{attr_kind}", needles)))
    return out


def build_corpus(
    folder: Path, seed: int, reps: int = 2, oversize: bool = True
) -> tuple[list[Planted], list[tuple[str, str]]]:
    """Write the corpus under `folder`; returns what was planted and the benign (kind, value) pairs."""
    from bench.secret_lookalikes import benign_lines

    rng = random.Random(seed)
    lines: dict[str, list[bytes]] = {"native": [], "otlp": []}
    planted: list[Planted] = []
    for kind, (_, make) in FORMATS.items():
        for _ in range(reps):
            for file, line, what in plant_record(kind, make, rng, len(planted)):
                lines[file].append(line)
                planted.append(what)
    benign = benign_lines(rng, per_kind=max(20, 12 * reps))
    for n, (_, _, text) in enumerate(benign):
        target = ("text", "tool_args", "attrs")[n % 3]
        value: object = text if target == "text" else {"note": text}
        lines["native"].append(native_event(100_000 + n, **{target: value}))
    for n, (_, _, text) in enumerate(benign[::4]):
        lines["otlp"].append(otlp_line(200_000 + n, [("app.note", "string", text)]))
    (folder / "events.jsonl").write_bytes(b"\n".join(lines["native"]) + b"\n")
    (folder / "traces.jsonl").write_bytes(b"\n".join(lines["otlp"]) + b"\n")
    planted += _plant_file_names(folder, rng)
    if oversize:
        planted += _plant_oversized(folder, rng)
    return planted, [(kind, value) for kind, value, _ in benign]


def _plant_file_names(folder: Path, rng: random.Random) -> list[Planted]:
    out = []
    names = folder / "exports"
    names.mkdir(exist_ok=True)
    for n, (kind, (_, make)) in enumerate(FORMATS.items()):
        if kind in NAMED_ONLY or kind in ("private_key", "slack_webhook"):
            continue
        secret = make(rng).replace("/", "_")
        (names / f"run-{n}-{secret}.jsonl").write_bytes(native_event(300_000 + n, text="ok") + b"\n")
        out.append(Planted(kind, "file_name", (secret,)))
    return out


OVERSIZE_BYTES = 70_000_000  # above the 64 MiB line limit, below the 96 MiB the old check let through
HEAD_LIMIT = 64 << 10


def _plant_oversized(folder: Path, rng: random.Random) -> list[Planted]:
    """One line longer than the limit: secrets in its kept head, and one cut by the head's end."""
    out, parts = [], []
    for kind, (_, make) in FORMATS.items():
        secret = make(rng)
        parts.append(named(kind, secret, rng) if kind in NAMED_ONLY else f"key {secret}")
        out.append(Planted(kind, "oversized_line_head", needles_of(kind, secret)))
    prefix = (
        b'{"ts": "2026-11-20T11:00:00Z", "agent_id": "corpus-agent", "session_id": "big",'
        b' "event_type": "tool_result", "text": "'
    )
    head = prefix + "\\n".join(parts).replace("\n", "\\n").replace('"', "'").encode() + b" "
    cut = FORMATS["anthropic"][1](rng)
    at = HEAD_LIMIT - 24
    line = head + b"x" * (at - len(head)) + cut.encode() + b" " + b"y" * (OVERSIZE_BYTES - at) + b'"}'
    out.append(Planted("anthropic", "oversized_line_cut", (cut[:24],)))
    (folder / "huge.jsonl").write_bytes(line + b"\n" + native_event(400_000, text="after the long line") + b"\n")
    return out
