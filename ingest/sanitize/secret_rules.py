"""The secret rules, as data: what a secret looks like, which regex group is the secret, how it is checked.

Every pattern is written in the subset that Python's `re` and Rust's `regex` (polars) read alike: no
lookarounds, no backreferences, no shorthand classes inside negated classes. Polars runs the union of
all patterns to find the rare rows that hold a secret; Python then applies the rules one by one, in
this order, on those rows only. Order is priority: a value an earlier rule masked is never masked again.

Values stop at a backslash and at quotes, so a masked span never splits a JSON escape (`\\"`, `\\n`)
and masked JSON text stays valid JSON. Text inside JSON strings is matched as it stands, escapes and all.
Provider formats are the published ones (gitleaks' rule set, detect-secrets' plugins, the providers'
docs); `docs/secrets-and-hostile-text.md` says which came from where.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentwatch.ingest.sanitize.secret_words import NOT_A_PASSWORD


@dataclass(frozen=True)
class Rule:
    """One secret shape: `name` is the type written in `[REDACTED:<name>:<fp>]`; `group` 0 is the match."""

    name: str
    pattern: str
    # Lower-case literals one of which every match contains: rows holding none skip the rule.
    anchors: tuple[str, ...]
    group: int = 0
    # "token": a prefixed key that must stand alone (not inside a longer word or base64 blob);
    # "value": an assigned value that must not be a placeholder, a template, a call or a name;
    # "word": an assigned value that may be letters only (a password), but not an everyday word;
    # "opaque": a value in prose that must mix letters and digits; "bare_aws": see `context`.
    check: str = "token"
    min_len: int = 1
    # A pattern the whole text must also hold (a bare 40-character AWS secret counts only beside AWS
    # context); rules with a context stay out of the union and are matched in two steps.
    context: str | None = None
    # Which of the two polars scans first: the cheap one (a literal-prefixed pattern, or a literal context).
    context_first: bool = True


# A key's closing quote, maybe JSON-escaped (`"`, `\"`, `\\\"`), maybe a subscript's `']`, then `:` or `=`.
_KEY_END = r"""(?:\\*["'])?\]?[ \t]*[:=][ \t]*"""
_BARE = r"""[^ \t\r\n"'\\&,;|<>()\[\]{}]"""
# An unquoted value in prose or code form holds a digit or a symbol (`token: a1b2`, not `token: getToken`)
# and does not open with `$` or `%` (`${DB_PASSWORD}`, `%(pw)s` are references, not values).
_NAME = r"[A-Za-z_.\-]"
_SYMBOL = r"""[^A-Za-z_.\- \t\r\n"'\\&,;|<>()\[\]{}]"""
_SYMBOL_FIRST = r"""[^$%A-Za-z_.\- \t\r\n"'\\&,;|<>()\[\]{}]"""
_BARE_FIRST = r"""[^$% \t\r\n"'\\&,;|<>()\[\]{}]"""
_OPAQUE_VALUE = f"((?:{_NAME}+{_SYMBOL}|{_SYMBOL_FIRST}){_BARE}*)"
_PEM_BODY = r"(?:[A-Za-z0-9+/=:,.\- \t\r\n]|\\+[nrt])"
_PEM_BEGIN = r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_PEM_END = r"-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
# A password may hold an unencoded `?` or `#` (people paste them so); it ends at the last `@` before a `/`.
_URL_PASSWORD_CHAR = r"""[^ \t\r\n/"'\\]"""
_QUOTE = r"""\\*["']"""

PASSWORD_KEYS = ("password", "passwd", "passphrase", "pwd")
SECRET_KEYS = (
    "api[_-]?key", "access[_-]?key", "secret[_-]?key", "private[_-]?key", "secret", "token", "credentials?",
    "auth[_-]?key", "account[_-]?key", "client[_-]?secret",
)  # fmt: skip
_ANY_SECRET_NAME = "(?i:{})".format("|".join(PASSWORD_KEYS + SECRET_KEYS))
_SECRET_ANCHORS = ("pass", "pwd", "api", "access", "secret", "private", "token", "credential", "auth", "account")


CSV_SECRET_HEADER = r"(?i:password|passwd|pwd|secret|token|api[_ -]?key|credential)"
# Candidate rows only: a header line naming a secret, then a line with a comma. The table itself is
# parsed in Python (`redact._mask_csv`), which a backtracking regex would make quadratic.
_HEADER_CELL = r"[A-Za-z0-9 _.\-]*"
# It opens with the secret's name, so the union keeps its literal prefilter; the cells before it are
# checked in Python.
_CSV_TABLE = CSV_SECRET_HEADER + rf"{_HEADER_CELL}(?:,{_HEADER_CELL})*" + r"(?:\r?\n|\\n)[^\r\n,]*,"
# The whole header line, from its start: the context a candidate must also have.
_SECRET_CELL = f"{_HEADER_CELL}{CSV_SECRET_HEADER}{_HEADER_CELL}"
_CSV_HEADER_LINE = (  # at least one comma, before or after the secret's cell
    rf"""(?:^|[\r\n]|\\n|")(?:(?:{_HEADER_CELL},)+{_SECRET_CELL}(?:,{_HEADER_CELL})*|{_SECRET_CELL}(?:,{_HEADER_CELL})+)"""
    r"(?:\r?\n|\\n)"
)


def _quoted_value(opening: str, quote: str, min_len: int) -> str:
    """A quoted value; its first character rules out the closing quote of `input('Password: ')`."""
    first = rf"[^ {quote}\\\r\n),;\]}}{{$<%]"
    return rf"{opening}({first}[^{quote}\\\r\n]{{{min_len - 1},}})"


def _assignment_rules(name: str, keys: tuple[str, ...], anchors: tuple[str, ...], min_len: int) -> tuple[Rule, ...]:
    """The forms `key = value` takes: quoted or JSON, an upper-case variable (`DB_PASSWORD=x`), a URL
    query parameter, a loose `key: value` or `key=value` with an opaque value, a CLI flag `--key value`."""
    any_case = "(?i:{})".format("|".join(keys))
    upper = "(?:{})".format("|".join(key.upper() for key in keys))
    return (
        Rule(name, any_case + _KEY_END + _quoted_value(r'\\*"', '"', min_len), anchors, 1, "value"),
        Rule(name, any_case + _KEY_END + _quoted_value("'", "'", min_len), anchors, 1, "value"),
        Rule(name, upper + _KEY_END + f"({_BARE_FIRST}{_BARE}{{{min_len - 1},}})", anchors, 1, "value"),
        Rule(name, r"[?&][A-Za-z0-9_.\-]*" + any_case + f"=({_BARE_FIRST}{_BARE}*)", anchors, 1, "value", min_len),
        Rule(name, any_case + _KEY_END + _OPAQUE_VALUE, anchors, 1, "value", min_len),
        Rule(name, "--" + any_case + r"[ \t]+" + _OPAQUE_VALUE, anchors, 1, "value", min_len),
    )


def _password_word_rules() -> tuple[Rule, ...]:
    """Passwords of letters only, which the opaque forms leave alone: `password: letmein`, ODBC `PWD=x;`,
    `<password>x</password>`, and prose (`login with password hunter`, `the password is hunter`)."""
    keys = "(?i:{})".format("|".join(PASSWORD_KEYS))
    anchors = ("pass", "pwd")
    prose = r"(?i:with|using|use|the|my|your|his|her|our|their|new|temporary|default|initial|admin|root|and)"
    return (
        Rule("password", keys + _KEY_END + r"([A-Za-z][A-Za-z0-9!#*+@^~\-]{3,})", anchors, 1, "word"),
        Rule("password", r"<" + keys + r"[^<>/]{0,40}>([^<>\\\r\n]{3,})</", anchors, 1, "word"),
        Rule(
            "password",
            prose + r"[ \t]+" + keys + r"(?:[ \t]+(?i:is|was|of|set[ \t]+to))?[ \t]*:?[ \t]+[\"'`]?"
            r"([A-Za-z0-9!#*+@^~\-]{4,})",
            anchors, 1, "word",
        ),
    )  # fmt: skip


def _named_value_rules() -> tuple[Rule, ...]:
    """A secret whose name and value sit in two fields of one record: `{"name": "DB_PASSWORD", "value": "x"}`
    (Kubernetes and ECS env lists) and `<add key="ApiKey" value="x"/>` (.NET app.config)."""
    name = (
        r"(?i:name|key)" + _QUOTE + r"?[ \t]*[:=][ \t]*" + _QUOTE
        + r"[A-Za-z0-9_.\-]*" + _ANY_SECRET_NAME + r"[A-Za-z0-9_.\-]*" + _QUOTE
    )
    value = r"[ \t]*,?[ \t]*(?:\\*\")?(?i:value|val)" + _QUOTE + r"?[ \t]*[:=][ \t]*" + _QUOTE
    return (Rule("named_secret", name + value + r"""([^"'\\\r\n]{3,})""", ("value", "val"), 1, "value"),)


def _provider(name: str, pattern: str, *anchors: str) -> Rule:
    return Rule(name, pattern, anchors)


# Tokens whose published format carries a fixed prefix: they need no key name beside them.
PROVIDER_RULES: tuple[Rule, ...] = (
    _provider("huggingface_token", r"(?:hf_|api_org_)[A-Za-z0-9]{34}", "hf_", "api_org_"),
    _provider("npm_token", r"npm_[A-Za-z0-9]{36}", "npm_"),
    _provider("sendgrid_key", r"SG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{30,50}", "sg."),
    _provider("digitalocean_token", r"do[opr]_v1_[a-f0-9]{64}", "_v1_"),
    _provider("shopify_token", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}", "shp"),
    _provider("stripe_webhook_secret", r"whsec_[A-Za-z0-9+/]{24,}", "whsec_"),
    _provider("pypi_token", r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}", "pypi-"),
    # No literal prefix: matched only in rows holding `:A` (a context), so the union keeps its fast scan.
    Rule("telegram_bot_token", r"[0-9]{5,16}:A[A-Za-z0-9_\-]{32,36}", (":a",), context=":A"),
    _provider("twilio_key", r"SK[0-9a-f]{32}", "sk"),
    _provider("mailgun_key", r"key-[0-9a-f]{32}", "key-"),
    _provider("databricks_token", r"dapi[a-f0-9]{32}(?:-[0-9]+)?", "dapi"),
    _provider("age_secret_key", r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}", "age-secret-key-"),
    _provider("postman_key", r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}", "pmak-"),
    _provider("pulumi_token", r"pul-[a-f0-9]{40}", "pul-"),
    _provider("rubygems_key", r"rubygems_[a-f0-9]{48}", "rubygems_"),
    _provider("linear_key", r"lin_api_[A-Za-z0-9]{40}", "lin_api_"),
    _provider("grafana_token", r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,}={0,2}", "glsa_", "glc_"),
    _provider("vault_token", r"hv[sbr]\.[A-Za-z0-9_\-]{24,}", "hvs.", "hvb.", "hvr."),
    _provider("doppler_token", r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}", "dp."),
    _provider("brevo_key", r"xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}", "xkeysib-"),
    _provider("groq_key", r"gsk_[A-Za-z0-9]{52}", "gsk_"),
    _provider("replicate_token", r"r8_[A-Za-z0-9]{37}", "r8_"),
    _provider("square_token", r"sq0(?:atp|csp)-[A-Za-z0-9_\-]{22,43}", "sq0"),
    _provider("atlassian_token", r"ATATT3[A-Za-z0-9_\-=]{100,}", "atatt3"),
    _provider("notion_token", r"ntn_[0-9]{11}[A-Za-z0-9]{35}", "ntn_"),
)

RULES: tuple[Rule, ...] = (
    Rule("private_key", _PEM_BEGIN + _PEM_BODY + r"*?" + _PEM_END, ("private key",), 0, "value"),
    Rule("private_key", _PEM_BEGIN + _PEM_BODY + r"+", ("private key",), 0, "value"),  # no END line
    Rule("jwt", r"eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*", ("eyj",)),
    Rule(
        "slack_webhook",
        r"hooks\.slack\.com(?:\\?/)+(?:services|workflows|triggers)(?:\\?/)+((?:[A-Za-z0-9_\-]|\\?/){8,})",
        ("hooks.slack.com",),
        1,
        "value",
    ),
    Rule(
        "aws_secret_key",
        r"(?i:aws_?secret_?(?:access_?)?key|secret_?access_?key)" + _KEY_END + r"""(?:\\*["'])?([A-Za-z0-9/+=]{40})""",
        ("secret",),
        1,
        "value",
    ),
    Rule("azure_storage_key", r"(?i:accountkey)[ \t]*=[ \t]*([A-Za-z0-9+/]{86}==)", ("accountkey",), 1, "value"),
    Rule("aws_access_key", r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}", ("akia", "asia", "abia", "acca")),
    Rule(
        "github_token",
        r"gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    Rule("gitlab_token", r"gl(?:pat|ptt|dt|rt)-[A-Za-z0-9_\-]{20,}", ("glpat-", "glptt-", "gldt-", "glrt-")),
    Rule("slack_token", r"xox[abposr]-[A-Za-z0-9\-]{10,}|xapp-[0-9]+-[A-Za-z0-9\-]{10,}", ("xox", "xapp-")),
    Rule("stripe_key", r"(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{16,}", ("_live_", "_test_", "_prod_")),
    Rule("anthropic_key", r"sk-ant-[A-Za-z0-9_\-]{20,}", ("sk-ant-",)),
    Rule("openai_key", r"sk-(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_\-]{20,}|[A-Za-z0-9]{32,})", ("sk-",)),
    Rule("google_api_key", r"AIza[A-Za-z0-9_\-]{35}", ("aiza",)),
    *PROVIDER_RULES,
    Rule(
        "url_password",
        r""":(?:\\?/){2}[^ \t\r\n:/?#@"'\\]*:""" + f"({_URL_PASSWORD_CHAR}+)@[A-Za-z0-9\\[]",
        (":/", ":\\/"),
        1,
        "value",
    ),
    Rule(
        "auth_header",
        r"(?i:authorization)"
        + _KEY_END
        + r"""(?:\\*["'])?(?i:(?:basic|bearer|token|digest)[ \t]+)?([A-Za-z._\-]*[0-9~+/][A-Za-z0-9._~+/\-]*=*)""",
        ("authorization",),
        1,
        "value",
        8,
    ),
    Rule(
        "auth_header",
        r"(?i:bearer)[ \t]+([A-Za-z._\-]*[0-9~+/][A-Za-z0-9._~+/\-]*=*)",
        ("bearer",),
        1,
        "value",
        16,
    ),
    *_named_value_rules(),
    *_assignment_rules("password", PASSWORD_KEYS, ("pass", "pwd"), 3),
    *_password_word_rules(),
    *_assignment_rules("generic_secret", SECRET_KEYS, _SECRET_ANCHORS[2:], 8),
    # `<apiKey>…</apiKey>`, `<SecretAccessKey>…</SecretAccessKey>`: a tag naming a secret around an opaque value.
    Rule(
        "generic_secret",
        r"<[A-Za-z_]*(?i:secret|token|api_?key|access_?key|auth_?key|credential)[A-Za-z_]*>([^<>\\\r\n]{8,})</",
        _SECRET_ANCHORS[2:], 1, "opaque",
    ),  # fmt: skip
    # A CSV whose header names a secret column (`username,password`): that column's cells in the rows below.
    Rule("csv_secret", _CSV_TABLE, _SECRET_ANCHORS, 0, "csv", context=_CSV_HEADER_LINE, context_first=False),
    # `token abc123…` in prose: an opaque run after the word, never an everyday word.
    Rule("generic_secret", r"(?i:token)[ \t]+(?:is[ \t]+)?[\"'`]?([A-Za-z0-9_\-.+/=]{16,})", ("token",), 1, "opaque"),
    # A bare 40-character AWS secret access key, with no name, beside an access key id or AWS talk.
    Rule(
        "aws_secret_key",
        r"[A-Za-z0-9/+]{40}",
        ("",),
        0,
        "bare_aws",
        context=r"(?:AKIA|ASIA)[A-Z0-9]{16}|aws|AWS|Aws",
    ),
)

# Values an assignment rule leaves alone: empty-ish words, variable names and template references.
PLACEHOLDERS = frozenset(
    {"null", "none", "nil", "true", "false", "undefined", "redacted", "hidden", "masked", "secret", "secrets"}
    | {"password", "passwd", "token", "tokens", "api_key", "apikey", "pw", "pwd", "key", "value", "example"}
)
PLACEHOLDER_STARTS = ("$", "{{", "%(", "<", "os.", "env.", "process.env", "self.", "[redacted")
# Key names that hold a pagination cursor, not a credential (`page_token`, `nextPageToken`, `NextToken`).
CURSOR_NAME = (
    r"(?:page|next|prev|previous|continuation|pagination|sync|resume|cursor|start|after|before|more|last)"
    r"(?:page)?token"
)
__all__ = ["NOT_A_PASSWORD", "PLACEHOLDERS", "PLACEHOLDER_STARTS", "RULES", "Rule", "CURSOR_NAME"]
