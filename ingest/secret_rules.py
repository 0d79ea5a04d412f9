"""The secret rules, as data: what a secret looks like, which regex group is the secret, how it is checked.

Every pattern is written in the subset that Python's `re` and Rust's `regex` (polars) read alike: no
lookarounds, no backreferences, no shorthand classes inside negated classes. Polars runs the union of
all patterns to find the rare rows that hold a secret; Python then applies the rules one by one, in
this order, on those rows only. Order is priority: a value an earlier rule masked is never masked again.

Values stop at a backslash and at quotes, so a masked span never splits a JSON escape (`\\"`, `\\n`)
and masked JSON text stays valid JSON. Text inside JSON strings is matched as it stands, escapes and all.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """One secret shape: `name` is the type written in `[REDACTED:<name>:<fp>]`; `group` 0 is the match."""

    name: str
    pattern: str
    # Lower-case literals one of which every match contains: rows holding none skip the rule.
    anchors: tuple[str, ...]
    group: int = 0
    # "token": a prefixed key that must stand alone (not inside a longer word or base64 blob);
    # "value": an assigned value that must not be a placeholder, a template or a call.
    check: str = "token"
    min_len: int = 1


# A key's closing quote, maybe JSON-escaped (`"`, `\"`, `\\\"`), then `:` or `=`.
_KEY_END = r"""(?:\\*["'])?[ \t]*[:=][ \t]*"""
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

PASSWORD_KEYS = ("password", "passwd", "passphrase")
SECRET_KEYS = ("api[_-]?key", "access[_-]?key", "secret[_-]?key", "private[_-]?key", "secret", "token")


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
    Rule("aws_access_key", r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}", ("akia", "asia", "abia", "acca")),
    Rule(
        "github_token",
        r"gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    Rule("gitlab_token", r"gl(?:pat|ptt|dt|rt)-[A-Za-z0-9_\-]{20,}", ("glpat-", "glptt-", "gldt-", "glrt-")),
    Rule("slack_token", r"xox[abposr]-[A-Za-z0-9\-]{10,}|xapp-[0-9]+-[A-Za-z0-9\-]{10,}", ("xox", "xapp-")),
    Rule("stripe_key", r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}", ("_live_", "_test_")),
    Rule("anthropic_key", r"sk-ant-[A-Za-z0-9_\-]{20,}", ("sk-ant-",)),
    Rule("openai_key", r"sk-(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_\-]{20,}|[A-Za-z0-9]{32,})", ("sk-",)),
    Rule("google_api_key", r"AIza[A-Za-z0-9_\-]{35}", ("aiza",)),
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
    *_assignment_rules("password", PASSWORD_KEYS, ("pass",), 3),
    *_assignment_rules("generic_secret", SECRET_KEYS, ("api", "access", "secret", "private", "token"), 8),
)

# Values an assignment rule leaves alone: empty-ish words, variable names and template references.
PLACEHOLDERS = frozenset(
    {"null", "none", "nil", "true", "false", "undefined", "redacted", "hidden", "masked", "secret", "secrets"}
    | {"password", "passwd", "token", "tokens", "api_key", "apikey", "pw", "pwd", "key", "value", "example"}
)
PLACEHOLDER_STARTS = ("$", "{{", "%(", "<", "os.", "env.", "process.env", "self.")
