"""Secret masking: every secret becomes `[REDACTED:<type>:<fp>]` before anything is written.

`fp` is the first 12 hex digits of HMAC-SHA256(key, secret): the same secret under the same key always
gets the same fingerprint, so it can be correlated across events without being stored. The secret is
fingerprinted without whitespace and JSON escapes, so a key logged plain and JSON-escaped correlates.

A frame is masked in two steps: polars runs the union of all rule patterns (Rust regex, vectorized) to
find the rare rows holding a secret, and only those rows go through the exact rules in Python.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import string
from collections.abc import Callable, Sequence

import polars as pl

from agentwatch.ingest.secret_rules import PLACEHOLDER_STARTS, PLACEHOLDERS, RULES, Rule

FINGERPRINT_HEX = 12
LABEL_START = "[REDACTED:"
# Polars reads the same patterns: a row none of them matches cannot hold a secret.
DETECT_PATTERN = "|".join(f"(?:{rule.pattern})" for rule in RULES)

_COMPILED = tuple((rule, re.compile(rule.pattern, re.ASCII)) for rule in RULES)
_WORD = frozenset(string.ascii_letters + string.digits + "_")
_ALNUM = frozenset(string.ascii_letters + string.digits)
_ESCAPE_BEFORE = re.compile(r"(?:\\[nrt]|%[0-9A-Fa-f]{2})\Z")
_LABEL_REACH = len(LABEL_START) + max(len(rule.name) for rule in RULES) + 1
_FINGERPRINT_NOISE = re.compile(r"\\+[nrt]|\\+(?=/)|[ \t\r\n]")


def fingerprint(secret: str, key: bytes) -> str:
    """The keyed fingerprint of a secret: first hex digits of HMAC-SHA256, whitespace and escapes ignored."""
    canonical = _FINGERPRINT_NOISE.sub("", secret).encode("utf-8", "surrogatepass")
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()[:FINGERPRINT_HEX]


def mask_text(text: str, key: bytes) -> tuple[str, int]:
    """Mask every secret in one string; returns the masked text and how many secrets were masked."""
    lowered = text.lower()
    return _mask_with(text, key, [any(anchor in lowered for anchor in rule.anchors) for rule in RULES])


def mask_bytes(raw: bytes, key: bytes) -> tuple[bytes, int]:
    """Mask secrets in raw bytes that may not be UTF-8; bytes outside a secret are kept exactly."""
    text, count = mask_text(raw.decode("utf-8", "surrogateescape"), key)
    return (text.encode("utf-8", "surrogateescape"), count) if count else (raw, 0)


def mask_frame(df: pl.DataFrame, columns: Sequence[str], key: bytes) -> tuple[pl.DataFrame, pl.Series]:
    """Mask the String `columns` of a frame; returns it with the Int32 count of secrets masked per row."""
    # One select, so polars scans the columns in parallel.
    hits = df.select(pl.col(name).cast(pl.String).str.contains(DETECT_PATTERN).fill_null(False) for name in columns)
    redactions = pl.zeros(df.height, pl.Int32, eager=True).alias("redactions")
    masked = []
    for name in columns:
        rows = hits.get_column(name).arg_true()
        if rows.is_empty():
            continue
        values, counts = _mask_rows(df.get_column(name).gather(rows), key)
        masked.append(df.get_column(name).clone().scatter(rows, values))
        redactions = redactions.scatter(rows, redactions.gather(rows) + counts)
    return df.with_columns(masked), redactions


def _mask_rows(values: pl.Series, key: bytes) -> tuple[pl.Series, pl.Series]:
    """The exact rules, in Python, over the few values the vectorized match picked; polars tells for
    each value which rules can match, so Python runs only those."""
    candidates = values.to_frame("value").select(
        pl.col("value").str.contains(rule.pattern).alias(str(i)) for i, rule in enumerate(RULES)
    )
    results = [
        _mask_with(value, key, applies) for value, applies in zip(values.to_list(), candidates.iter_rows(), strict=True)
    ]
    texts = pl.Series(values.name, [text for text, _ in results], dtype=pl.String)
    return texts, pl.Series([count for _, count in results], dtype=pl.Int32)


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


def _inside_label(match: re.Match[str]) -> bool:
    """True for a match inside an earlier rule's label (`password:` in `[REDACTED:password:...]`)."""
    start = match.start()
    opened = match.string.rfind(LABEL_START, max(0, start - _LABEL_REACH), start)
    return opened >= 0 and "]" not in match.string[opened:start]


def _stands_alone(match: re.Match[str], rule: Rule) -> bool:
    """A prefixed token counts only outside a longer word (a JSON `\\n` or `%XX` before it is a border)."""
    text, start, end = match.string, match.start(), match.end()
    left = start == 0 or text[start - 1] not in _WORD or bool(_ESCAPE_BEFORE.search(text, max(0, start - 3), start))
    return left and (end == len(text) or text[end] not in _ALNUM)


def _is_value(match: re.Match[str], rule: Rule) -> bool:
    """An assigned value counts unless it is short, a placeholder, a variable, a template or a call."""
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
    )


_CHECKS: dict[str, Callable[[re.Match[str], Rule], bool]] = {
    "token": _stands_alone,
    "value": _is_value,
}
