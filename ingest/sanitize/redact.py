"""Secret masking: every secret becomes `[REDACTED:<type>:<fp>]` before anything is written.

`fp` is the first 12 hex digits of HMAC-SHA256(key, secret): the same secret under the same key always
gets the same fingerprint, so it can be correlated across events without being stored. The secret is
fingerprinted without whitespace and JSON escapes, so a key logged plain and JSON-escaped correlates.

A frame is masked in two steps: polars runs the union of all rule patterns (Rust regex, vectorized) to
find the rare rows holding a secret, and only those rows go through the exact rules in Python. Rules
that need context (a bare AWS secret) and base64 runs that decode to a secret (`bytesValue` attributes,
`echo … | base64`) get their own vectorized pass (`encoded.py`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import string
from collections.abc import Callable, Sequence

import polars as pl

from agentwatch.ingest.sanitize.encoded import BASE64_RUN, decode_run, gate_pattern
from agentwatch.ingest.sanitize.secret_rules import (
    CSV_SECRET_HEADER,
    CURSOR_NAME,
    NOT_A_PASSWORD,
    PLACEHOLDER_STARTS,
    PLACEHOLDERS,
    RULES,
    Rule,
)

FINGERPRINT_HEX = 12
LABEL_START = "[REDACTED:"
ENCODED_TYPE = "base64_secret"
_PLAIN = tuple(rule for rule in RULES if rule.context is None)
# Letters-only password forms: polars extracts their values and drops everyday words before Python.
_WORDS = tuple(rule for rule in _PLAIN if rule.check == "word")
_NOT_A_PASSWORD = pl.Series(sorted(NOT_A_PASSWORD), dtype=pl.String)
_PASSWORD_NAMED = "|".join(f for a in ("pass", "pwd") for f in (a, a.upper(), a.capitalize()))
_IN_CONTEXT = tuple(rule for rule in RULES if rule.context is not None)
# Polars reads the same patterns: a row none of them matches cannot hold a secret (context rules aside).
DETECT_PATTERN = "|".join(f"(?:{rule.pattern})" for rule in _PLAIN if rule.check != "word")
ANY_PATTERN = "|".join(f"(?:{rule.pattern})" for rule in _PLAIN)

# Literals the context rules' cheaper halves need (the first-stage scans `_gates` runs): a context rule
# added without its entry here fails at import.
_CONTEXT_ANCHORS = {":A": (":a",), r"(?:AKIA|ASIA)[A-Z0-9]{16}|aws|AWS|Aws": ("akia", "asia", "aws")}
# Every first-stage scan but the base64 one needs one of these, in any ASCII casing: each rule's anchors
# (every match holds one: tested), `pass`/`pwd` (the password gate) and the context scans' literals.
GATE_ANCHORS = sorted(
    {anchor for rule in RULES for anchor in rule.anchors if anchor}
    | {"pass", "pwd"}
    | {anchor for rule in _IN_CONTEXT if rule.context_first for anchor in _CONTEXT_ANCHORS[rule.context or ""]}
)
_ANY_GATE_ANCHOR = "(?i:{})".format("|".join(re.escape(anchor) for anchor in GATE_ANCHORS))
_COMPILED = tuple((rule, re.compile(rule.pattern, re.ASCII)) for rule in RULES)
_CONTEXTS = {rule.context: re.compile(rule.context) for rule in _IN_CONTEXT if rule.context}
# Decoded base64 is tested against every rule, context rules too (their context is checked when masking).
_DETECT = re.compile("|".join(f"(?:{rule.pattern})" for rule in RULES), re.ASCII)
_BASE64_RUN = re.compile(BASE64_RUN)
ENCODED_GATE = gate_pattern(tuple(anchor for rule in _PLAIN for anchor in rule.anchors))
_ALNUM = frozenset(string.ascii_letters + string.digits)
_IDENT = frozenset(string.ascii_letters + string.digits + "_.-")
_BASE64_CHARS = frozenset(string.ascii_letters + string.digits + "+/=")
_ESCAPE_BEFORE = re.compile(r"(?:\\[nrt]|%[0-9A-Fa-f]{2})\Z")
_LABEL_REACH = len(LABEL_START) + max(len(rule.name) for rule in RULES) + 1
_FINGERPRINT_NOISE = re.compile(r"\\+[nrt]|\\+(?=/)|[ \t\r\n]")
_CURSOR = re.compile(CURSOR_NAME)
_RESOURCE_NAME = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*(?:[/:][a-z0-9]+(?:[-_.][a-z0-9]+)*)+")
_CAMEL = re.compile(r"[a-z][A-Z]")
_ROW_SPLIT = re.compile(r"(\r?\n|\\n)")
_CSV_VALUE = re.compile(r"""[^"\\]*""")
_CSV_HEADER = re.compile(CSV_SECRET_HEADER)
_CSV_NOT_SECRET = re.compile(r"(?i)\bid\b|_id\b|name|user|type|date|expir|count|length|policy")


def fingerprint(secret: str, key: bytes) -> str:
    """The keyed fingerprint of a secret: first hex digits of HMAC-SHA256, whitespace and escapes ignored."""
    canonical = _FINGERPRINT_NOISE.sub("", secret).encode("utf-8", "surrogatepass")
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()[:FINGERPRINT_HEX]


def mask_text(text: str, key: bytes) -> tuple[str, int]:
    """Mask every secret in one string; returns the masked text and how many secrets were masked."""
    text, encoded = _mask_encoded(text, key)
    lowered = text.lower()
    applies = [any(anchor in lowered for anchor in rule.anchors) for rule in RULES]
    masked, count = _mask_with(text, key, applies)
    return masked, count + encoded


def mask_bytes(raw: bytes, key: bytes) -> tuple[bytes, int]:
    """Mask secrets in raw bytes that may not be UTF-8; bytes outside a secret are kept exactly."""
    text, count = mask_text(raw.decode("utf-8", "surrogateescape"), key)
    return (text.encode("utf-8", "surrogateescape"), count) if count else (raw, 0)


def mask_frame(df: pl.DataFrame, columns: Sequence[str], key: bytes) -> tuple[pl.DataFrame, pl.Series]:
    """Mask the String `columns` of a frame; returns it with the Int32 count of secrets masked per row.

    One cheap pass over all the columns of a row at once (`candidate_rows`) picks the rows any first-stage
    scan could fire on; the scans and the rules then run on those rows only."""
    redactions = pl.zeros(df.height, pl.Int32, eager=True).alias("redactions")
    rows = candidate_rows(df, columns).arg_true()
    if rows.is_empty():
        return df, redactions
    masked, counts = _mask_candidates(df.select(columns).gather(rows), columns, key)
    scattered = [df.get_column(values.name).clone().scatter(rows, values) for values in masked]
    return df.with_columns(scattered), redactions.scatter(rows, counts)


def candidate_rows(df: pl.DataFrame, columns: Sequence[str]) -> pl.Series:
    """True for every row a first-stage scan (`_gates`) may fire on in any of `columns`; False proves none
    can. The columns are read joined, so a literal split across two of them only adds a candidate."""
    joined = pl.concat_str([pl.col(name).cast(pl.String) for name in columns], separator="\n", ignore_nulls=True)
    found = df.select(
        joined.str.contains(_ANY_GATE_ANCHOR)
        | joined.str.contains(ENCODED_GATE)
        # The anchors hold for matches on ASCII text; polars' (?i) also folds non-ASCII letters (`ſ` as `s`,
        # the Kelvin sign as `k`): a row with any non-ASCII character is always a candidate.
        | (joined.str.len_bytes() != joined.str.len_chars())
    ).to_series()
    return found.fill_null(False)


def _mask_candidates(df: pl.DataFrame, columns: Sequence[str], key: bytes) -> tuple[list[pl.Series], pl.Series]:
    """The first-stage scans, then the rules, over candidate rows; returns the columns that changed and
    the Int32 count of secrets masked per row."""
    texts = df.select(pl.col(name).cast(pl.String) for name in columns)
    # Every first-stage scan of every column in one select, so polars runs them in parallel.
    first = texts.select(expr.alias(f"{name}\x1f{gate}") for name in columns for gate, expr in _gates(pl.col(name)))
    redactions = pl.zeros(df.height, pl.Int32, eager=True).alias("redactions")
    masked = []
    for name in columns:
        column = texts.get_column(name)
        gate = {g: first.get_column(f"{name}\x1f{g}") for g, _ in _gates(pl.col(name))}
        found = gate["detect"] | gate["encoded"] | _second_stage(column, gate["password"], _word_hits)
        for i, rule in enumerate(_IN_CONTEXT):
            then = rule.pattern if rule.context_first else rule.context or ""
            found = found | _second_stage(column, gate[f"context{i}"], lambda texts, p=then: texts.str.contains(p))
        rows = found.arg_true()
        if rows.is_empty():
            continue
        values, counts = _mask_rows(column.gather(rows), key)
        masked.append(df.get_column(name).clone().scatter(rows, values))
        redactions = redactions.scatter(rows, redactions.gather(rows) + counts)
    return masked, redactions


def _gates(column: pl.Expr) -> list[tuple[str, pl.Expr]]:
    """The first-stage scans of a column: the rules' union, the base64 gate, the password-word gate and
    each context rule's cheaper half."""
    gates = [("detect", column.str.contains(DETECT_PATTERN)), ("encoded", column.str.contains(ENCODED_GATE)),
             ("password", column.str.contains(_PASSWORD_NAMED))]  # fmt: skip
    for i, rule in enumerate(_IN_CONTEXT):
        gates.append((f"context{i}", column.str.contains(rule.context if rule.context_first else rule.pattern)))
    return [(name, expr.fill_null(False)) for name, expr in gates]


def _second_stage(column: pl.Series, gate: pl.Series, test: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """`test` over the rows the gate passed only; the others stay False."""
    rows = gate.arg_true()
    if rows.is_empty():
        return gate
    return gate.scatter(rows, test(column.gather(rows)).fill_null(False))


def _word_hits(texts: pl.Series) -> pl.Series:
    """Letters-only password forms that assign something other than an everyday or code word."""
    found = pl.repeat(False, texts.len(), eager=True)
    for rule in _WORDS:
        values = texts.str.extract_all(rule.pattern).list.eval(
            pl.element().str.extract(rule.pattern, rule.group).str.to_lowercase()
        )
        found = found | values.list.eval(~pl.element().is_in(_NOT_A_PASSWORD.implode())).list.any().fill_null(False)
    return found


def _mask_rows(values: pl.Series, key: bytes) -> tuple[pl.Series, pl.Series]:
    """The exact rules, in Python, over the few values the vectorized match picked; polars tells for
    each value which rules can match, so Python runs only those."""
    candidates = values.to_frame("value").select(
        pl.col("value").str.contains(rule.pattern).fill_null(False).alias(str(i)) for i, rule in enumerate(RULES)
    )
    pairs = zip(values.to_list(), candidates.iter_rows(), strict=True)
    results = [_mask_value(value, key, applies) for value, applies in pairs]
    texts = pl.Series(values.name, [text for text, _ in results], dtype=pl.String)
    return texts, pl.Series([count for _, count in results], dtype=pl.Int32)


def _mask_value(value: str | None, key: bytes, applies: Sequence[bool]) -> tuple[str | None, int]:
    if value is None:
        return None, 0
    value, encoded = _mask_encoded(value, key)
    masked, count = _mask_with(value, key, applies)
    return masked, count + encoded


def _mask_encoded(text: str, key: bytes) -> tuple[str, int]:
    """Mask whole base64 runs whose decoded text holds a secret (OTLP `bytesValue`, wrapped configs)."""
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        decoded = decode_run(match.group(0))
        if decoded is None or not _DETECT.search(decoded) or not mask_text(decoded, key)[1]:
            return match.group(0)
        count += 1
        return f"{LABEL_START}{ENCODED_TYPE}:{fingerprint(match.group(0), key)}]"

    return (_BASE64_RUN.sub(replace, text), count) if len(text) >= 20 else (text, 0)


def _mask_with(text: str, key: bytes, applies: Sequence[bool]) -> tuple[str, int]:
    """Apply the rules flagged in `applies`, in rule order; returns the text and the secrets masked."""
    total = 0
    for (rule, regex), flagged in zip(_COMPILED, applies, strict=True):
        if flagged:
            text, count = _apply_rule(rule, regex, text, key)
            total += count
    return text, total


def _apply_rule(rule: Rule, regex: re.Pattern[str], text: str, key: bytes) -> tuple[str, int]:
    """Replace the secret group of each accepted match of one rule."""
    if rule.context and not _CONTEXTS[rule.context].search(text):
        return text, 0
    if rule.check == "csv":
        return _mask_csv(rule, regex, text, key)
    accept = _CHECKS[rule.check]
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        if _inside_label(match) or not accept(match, rule):
            return match.group(0)
        count += 1
        start, end = match.span(rule.group)
        whole, offset = match.group(0), match.start()
        label = f"{LABEL_START}{rule.name}:{fingerprint(match.group(rule.group), key)}]"
        return whole[: start - offset] + label + whole[end - offset :]

    return regex.sub(replace, text), count


def _mask_csv(rule: Rule, regex: re.Pattern[str], text: str, key: bytes) -> tuple[str, int]:
    """Mask the cells of the columns a CSV header names as secrets (not their ids or names), in every
    table of the text: a header line, then rows with as many cells."""
    if not regex.search(text):
        return text, 0
    parts = _ROW_SPLIT.split(text)  # lines at even indexes, their breaks at odd ones
    count, secret, width = 0, [], 0
    for i in range(0, len(parts), 2):
        cells = parts[i].split(",")
        if secret and len(cells) == width:
            for j in secret:
                # A quote or backslash ends the value: the cell may close a JSON string (`abc"}`).
                value = _CSV_VALUE.match(cells[j]).group(0)
                if _csv_value(value):
                    count += 1
                    label = f"{LABEL_START}{rule.name}:{fingerprint(value.strip(), key)}]"
                    cells[j] = label + cells[j][len(value) :]
            parts[i] = ",".join(cells)
            continue
        secret = [j for j, name in enumerate(cells) if _CSV_HEADER.search(name) and not _CSV_NOT_SECRET.search(name)]
        secret = secret if len(cells) > 1 and all(len(name) <= 40 for name in cells) else []
        width = len(cells)
    return "".join(parts), count


def _csv_value(cell: str) -> bool:
    value = cell.strip().strip("\"'")
    return len(value) >= 3 and value.lower() not in PLACEHOLDERS and not value.startswith(PLACEHOLDER_STARTS)


def _inside_label(match: re.Match[str]) -> bool:
    """True for a match inside an earlier rule's label (`password:` in `[REDACTED:password:...]`)."""
    start = match.start()
    opened = match.string.rfind(LABEL_START, max(0, start - _LABEL_REACH), start)
    return opened >= 0 and "]" not in match.string[opened:start]


def _stands_alone(match: re.Match[str], rule: Rule) -> bool:
    """A prefixed token counts only outside a longer word (a JSON `\\n` or `%XX` before it is a border;
    so is `_`, as in `dump_AKIA….csv`)."""
    text, start, end = match.string, match.start(), match.end()
    left = start == 0 or text[start - 1] not in _ALNUM or bool(_ESCAPE_BEFORE.search(text, max(0, start - 3), start))
    return left and (end == len(text) or text[end] not in _ALNUM)


def _key_name(match: re.Match[str]) -> str:
    """The whole identifier the rule's key word sits in (`next_token` for a match at `token`)."""
    text, start = match.string, match.start()
    while start < len(text) and text[start] in "?&-":
        start += 1
    left = start
    while left > 0 and text[left - 1] in _IDENT:
        left -= 1
    right = start
    while right < len(text) and text[right] in _IDENT:
        right += 1
    return text[left:right]


def _names_a_resource(match: re.Match[str], rule: Rule, value: str) -> bool:
    """A secret's name or path, not its value: `arn:…:secret:prod/api-key`, `secret: team/db-creds`,
    `page_token=…`, `PWD=/home/x` (the shell's working directory)."""
    name = re.sub(r"[^a-z0-9]", "", _key_name(match).lower())
    if _CURSOR.search(name) or (name.endswith("pwd") and value.startswith(("/", "~"))):
        return True
    word_start = max(match.string.rfind(c, 0, match.start()) for c in " \t\n\"'=,") + 1
    if match.string.startswith("arn:", word_start):
        return True
    return rule.name != "password" and _RESOURCE_NAME.fullmatch(value) is not None


def _is_value(match: re.Match[str], rule: Rule) -> bool:
    """An assigned value counts unless it is short, a placeholder, a variable, a template, a call or a name."""
    value = match.group(rule.group).strip()
    if len(value) < rule.min_len:
        return False
    followed_by_call = match.string[match.end() : match.end() + 1] == "("
    return not (
        followed_by_call
        or value.lower() in PLACEHOLDERS
        or value.startswith(PLACEHOLDER_STARTS)
        or LABEL_START in value
        or len(set(value)) < 2
        or _names_a_resource(match, rule, value)
    )


def _is_word_password(match: re.Match[str], rule: Rule) -> bool:
    """A password of letters counts unless it is an everyday or code word, a camelCase name or an
    attribute or call (`password = form.password`, `password = getpass()`)."""
    value = match.group(rule.group).strip()
    after = match.string[match.end() : match.end() + 1]
    if after in ("(", ".", "[", "_") or value.lower() in NOT_A_PASSWORD or _CAMEL.search(value):
        return False
    return _is_value(match, rule)


def _is_opaque(match: re.Match[str], rule: Rule) -> bool:
    """A value in prose counts only when it mixes letters and digits, as generated tokens do."""
    value = match.group(rule.group)
    has_digit = any(c.isdigit() for c in value)
    return has_digit and any(c.isalpha() for c in value) and _is_value(match, rule)


def _is_bare_aws_secret(match: re.Match[str], rule: Rule) -> bool:
    """Forty base64 characters standing alone, mixing upper, lower and digits (a hex SHA never does)."""
    text, start, end = match.string, match.start(), match.end()
    before, after = text[start - 1 : start], text[end : end + 1]
    alone = before not in _BASE64_CHARS and after not in _BASE64_CHARS
    value = match.group(0)
    mixed = any(c.isupper() for c in value) and any(c.islower() for c in value) and any(c.isdigit() for c in value)
    return alone and mixed


_CHECKS: dict[str, Callable[[re.Match[str], Rule], bool]] = {
    "token": _stands_alone,
    "value": _is_value,
    "word": _is_word_password,
    "opaque": _is_opaque,
    "bare_aws": _is_bare_aws_secret,
}
