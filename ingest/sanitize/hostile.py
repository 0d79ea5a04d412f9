"""Hostile-text flags: text that hides from a reader, drives a terminal, makes a renderer fetch a URL, or
talks to the model as if it were its operator. Flag, never alter: the analyst sees exactly what came in.

Each flag is a few probes, polars (Rust) expressions over a column: no per-row Python. A cheap gate
(a literal scan, which runs at GB/s) picks the rows worth the probes (regexes, which run far slower), as
secrets masking does. Probes also read JSON text (`tool_args`, `attrs`), where these characters arrive
escaped (`\\u200b`, `\\u001b`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl

from agentwatch.inert import UNSAFE_REGEX_CLASS, is_unsafe

Probe = Callable[[pl.Expr], pl.Expr]

# Classic injection phrasing, case-insensitive; a space stands for any run of whitespace or JSON-escaped
# line breaks (`\x20` for exactly one space). "you are now" and "system prompt" alone are everyday agent
# talk ("you are now logged in", "the system prompt says"), so they count only in their hijacking forms.
INJECTION_PHRASES = (
    r"ignore (?:all |any |the |your |my )?(?:of )?(?:the )?(?:previous|prior|above|earlier|preceding|former)"
    r" (?:instructions?|prompts?|directions?|rules|messages?|context|guidelines)",
    r"disregard (?:all |any |the |your )?(?:of )?(?:the )?(?:above|previous|prior|earlier|preceding|system)",
    r"forget (?:all |everything |your |the )?(?:previous |prior |above |earlier )?(?:instructions|rules|guidelines)",
    r"you are\x20now (?:a|an|dan|free|unrestricted|jailbroken|in developer mode)(?:[^a-z]|$)",
    r"(?:reveal|print|show|repeat|output|disclose|leak|ignore|override|bypass) (?:me )?(?:your |the |my |all |any )?"
    r"(?:system\x20prompt|initial\x20instructions|hidden\x20instructions)",
    r"(?:do not|don't|never) (?:tell|inform|alert|notify|mention (?:this |it )?to|reveal (?:this |it )?to|let)"
    r" the\x20user",
    r"(?:new|updated|revised) (?:system )?instructions\s*:",
    r"<\|im_start\|>|<\|im_end\|>|<\|system\|>|\[INST\]|<<SYS>>|(?:jailbreak|dan)\x20mode",
)
# Every phrase holds one of these words; only rows holding one in lower, Capitalized, Title or UPPER case
# are matched against the phrases. A case-insensitive scan of every row costs ten times more; the price is
# that mIxEd-case phrasing goes unflagged.
INJECTION_WORDS = (
    "ignore", "disregard", "forget", "are now", "system prompt", "initial instructions", "hidden instructions",
    "the user", "instructions", "<|im_", "<|system|>", "[inst]", "<<sys>>", "dan mode", "DAN mode",
    "jailbreak mode",
)  # fmt: skip
_GAP = r"(?:\s|\\[nrt])+"
BOM = "\ufeff"


@dataclass(frozen=True)
class HostileFlag:
    """A flag: probes that raise it, and a cheap gate; probes run only on the rows the gate passes."""

    name: str
    probes: tuple[Probe, ...]
    gate: Probe | None = None


def _regex(pattern: str) -> Probe:
    return lambda column: column.str.contains(pattern)


def _bom_after_start(column: pl.Expr) -> pl.Expr:
    return column.str.slice(1).str.contains(BOM, literal=True)


def _non_ascii(column: pl.Expr) -> pl.Expr:
    return column.str.len_chars() != column.str.len_bytes()


def _cased(words: Sequence[str]) -> str:
    """A literal alternation of the words in their usual casings: fast, unlike a case-insensitive scan."""
    forms = {form for word in words for form in (word, word.capitalize(), word.title(), word.upper())}
    return "|".join(re.escape(form) for form in sorted(forms))


def _unsafe_bmp_ranges() -> list[tuple[int, int]]:
    """Ranges of unsafe BMP code points (by category, as `inert_text` decides), soft joiners excepted."""
    ranges: list[list[int]] = []
    for code in range(0x10000):
        if is_unsafe(chr(code)) and chr(code) not in _SOFT_CHARS and not 0xD800 <= code <= 0xDFFF:
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return [(a, b) for a, b in ranges]


# Joiners and variation selectors belong inside emoji and Indic or CJK text; next to ASCII they hide.
_SOFT_CHARS = frozenset("\x07\t\n\r\u200c\u200d\ufeff\x1b\x9b" + "".join(chr(c) for c in range(0xFE00, 0xFE10)))
_SOFT = r"\x{200C}\x{200D}\x{FE00}-\x{FE0F}"
# Every unsafe category, minus layout whitespace, the soft joiners, the BOM (its own probe) and the
# terminal sequences' ESC, CSI and BEL (`ansi_escape`).
_UNSAFE = f"[[{UNSAFE_REGEX_CLASS}]--[\\x07\\t\\n\\r\\x{{1B}}\\x{{9B}}\\x{{FEFF}}{_SOFT}]]"
_UNSAFE_BMP = _unsafe_bmp_ranges()


def _escaped_unsafe(column: pl.Expr) -> pl.Expr:
    """A JSON `\\uXXXX` escape of an unsafe BMP character (the escape's code point, checked by range)."""
    code = pl.element().str.slice(2).str.to_integer(base=16, strict=False)
    hit = pl.any_horizontal([(code >= a) & (code <= b) for a, b in _UNSAFE_BMP]).fill_null(False)
    return column.str.extract_all(r"\\u[0-9a-fA-F]{4}").list.eval(hit).list.any()


# A name may appear twice: the flag is raised when either entry's probes hit.
FLAGS: tuple[HostileFlag, ...] = (
    HostileFlag(
        "invisible_unicode",
        (
            _regex(_UNSAFE),
        ),
        _non_ascii,
    ),
    HostileFlag(
        "invisible_unicode",
        (
            # Zero-width (non-)joiners beside ASCII, variation selectors after ASCII other than a keycap's
            # digit, `#` or `*`: emoji and scripts use them between or after non-ASCII characters.
            _regex(r"[\x00-\x7F][\x{200C}\x{200D}]|[\x{200C}\x{200D}][\x00-\x7F]"),
            _regex(r"[\x00-\x22\x24-\x29\x2B-\x2F\x3A-\x7F][\x{FE00}-\x{FE0F}]"),
        ),
        lambda column: column.str.contains_any([chr(c) for c in (0x200C, 0x200D, *range(0xFE00, 0xFE10))]),
    ),
    # ASCII controls other than layout whitespace and ESC (backspace, NUL, BEL, ...): no gate needed.
    HostileFlag("invisible_unicode", (_regex(r"[\x00-\x06\x08\x0B\x0C\x0E-\x1A\x1C-\x1F\x7F]"),)),
    # A byte-order mark inside text; files and JSON strings legitimately open with one.
    HostileFlag("invisible_unicode", (_regex(r'[^"]\x{FEFF}'),), _bom_after_start),
    HostileFlag(
        "invisible_unicode",
        (  # the same, JSON-escaped; supplementary characters escape as surrogate pairs
            _escaped_unsafe,
            _regex(r'[^"]\\u[fF][eE][fF][fF]'),
            _regex(r"\\u[dD][bB]4[0-3]\\u[dD][c-fC-F]"),  # plane 14: tags, variation selectors 17-256
            _regex(r"\\u[dD][bB][89a-fA-F][0-9a-fA-F]\\u[dD][c-fC-F]"),  # planes 15-16: private use
            _regex(r"\\u[dD]834\\u[dD][dD]7[3-9aA]|\\u[dD]82[fF]\\u[dD][cC][aA][0-3]"),  # musical, shorthand format
            _regex(r"\\u200[cCdD][\x20-\x5B\x5D-\x7E]"),
            _regex(r"[\x20-\x2F\x3A-\x40\x47-\x5B\x5D-\x60\x67-\x7E]\\u(?:200[cCdD]|[fF][eE]0[0-9a-fA-F])"),
        ),
        _regex(r"\\u"),
    ),
    HostileFlag("ansi_escape", (_regex(r"\x1b[\[\]]|\x{9B}|\\u001[bB][\[\]]|\\u009[bB]"),)),
    HostileFlag(
        "markdown_link_payload",
        (
            _regex(r"!\[[^\]]*\]\([ \t]*<?(?:https?:|data:|//)"),  # an image: rendering it fetches the URL
            _regex(r"\]\([ \t]*<?(?:(?:https?:)?//[^\s)]*\?[^\s)]+|data:)"),  # a link carrying a query or data
            _regex(r"""(?i:<img)[^>]*(?i:src)[ \t]*=[ \t]*\\?["']?(?:https?:)?//"""),
            # a link or href that runs script when clicked
            _regex(r"\]\([ \t]*<?[ \t]*(?i:javascript|vbscript):"),
            _regex(r"""(?i:href)[ \t]*=[ \t]*\\?["']?[ \t]*(?i:javascript|vbscript):"""),
        ),
        _regex(r"\]\(|<img|<IMG|href|HREF|Href"),
    ),
    HostileFlag(
        "injection_phrase",
        (_regex("(?i)" + "|".join(f"(?:{phrase.replace(' ', _GAP)})" for phrase in INJECTION_PHRASES)),),
        _regex(_cased(INJECTION_WORDS)),
    ),
)
FLAG_NAMES = tuple(dict.fromkeys(flag.name for flag in FLAGS))


def flag_frame(df: pl.DataFrame, columns: Sequence[str]) -> pl.Series:
    """Per row, the names of the hostile-text flags any of `columns` raises, as a List(String) Series."""
    texts = df.select(pl.col(name).cast(pl.String) for name in columns)
    # Every gate (or ungated flag's probes) over every column in one select, which polars runs in parallel.
    first = texts.select(
        _first_pass(flag, pl.col(name)).alias(f"{i}:{name}") for i, flag in enumerate(FLAGS) for name in texts.columns
    )
    raised = {name: pl.repeat(False, df.height, eager=True) for name in FLAG_NAMES}
    for i, flag in enumerate(FLAGS):
        for name in texts.columns:
            hits = first.get_column(f"{i}:{name}")
            if flag.gate is not None:
                hits = _probe_rows(texts.get_column(name), hits.arg_true(), flag.probes)
            raised[flag.name] = raised[flag.name] | hits
    names = [pl.when(pl.col(name)).then(pl.lit(name)).otherwise(pl.lit(None, pl.String)) for name in FLAG_NAMES]
    return pl.DataFrame(raised).select(pl.concat_list(names).list.drop_nulls().alias("flags")).to_series()


def _first_pass(flag: HostileFlag, column: pl.Expr) -> pl.Expr:
    return (flag.gate(column) if flag.gate is not None else _any_probe(flag.probes, column)).fill_null(False)


def _any_probe(probes: Sequence[Probe], column: pl.Expr) -> pl.Expr:
    return pl.any_horizontal(probe(column).fill_null(False) for probe in probes)


def _probe_rows(column: pl.Series, rows: pl.Series, probes: Sequence[Probe]) -> pl.Series:
    """Run the probes over the gated rows only; rows the gate stopped stay False."""
    hits = pl.repeat(False, column.len(), eager=True)
    if rows.is_empty():
        return hits
    subset = column.gather(rows).to_frame("text").select(_any_probe(probes, pl.col("text"))).to_series()
    return hits.scatter(rows, subset)
