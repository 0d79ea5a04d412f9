"""Render attacker-controlled text inert for terminals and logs.

A character is unsafe by what Unicode says it is, not by a list: control (Cc), format (Cf: bidi
overrides, zero-width characters, tag characters, interlinear annotation), line and paragraph
separators (Zl, Zp), private use (Co), surrogates (Cs), and every Default_Ignorable_Code_Point
(Hangul fillers, variation selectors, soft hyphen, combining grapheme joiner, ...). Unsafe characters
are shown as `\\uXXXX` escapes so a log line cannot move the cursor, recolour the terminal, hide text
or reorder what the analyst reads. Ingest flags the same characters (`ingest/sanitize/hostile.py` asks Rust's
regex for the same categories).
"""

from __future__ import annotations

import re
import unicodedata

UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs"})
# Default_Ignorable_Code_Point, from the Unicode Character Database (DerivedCoreProperties.txt);
# Python's unicodedata has no accessor for this property. Most of it is Cf already.
DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)  # fmt: skip
# The same set as Rust regex (polars) classes, for the vectorized ingest flag.
UNSAFE_REGEX_CLASS = r"\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Default_Ignorable_Code_Point}"


def is_unsafe(char: str) -> bool:
    """True for a character that must never reach a terminal or table as itself."""
    code = ord(char)
    return unicodedata.category(char) in UNSAFE_CATEGORIES or any(a <= code <= b for a, b in DEFAULT_IGNORABLE)


class _EscapeTable(dict[int, str]):
    """`str.translate` table that decides each code point once, on first sight, and remembers it."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        self[code] = (f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}") if is_unsafe(char) else char
        return self[code]


_TABLE = _EscapeTable()


def inert_text(text: str) -> str:
    """The text with every unsafe character replaced by its escape."""
    if text.isascii() and text.isprintable():
        return text
    return text.translate(_TABLE)


_KEPT_IN_FIELDS = re.compile(r"(\r\n|[\r\n\t])")


def inert_lines(text: str) -> str:
    """Like `inert_text`, but line breaks and tabs kept as themselves (for quoted CSV fields)."""
    return "".join(part if i % 2 else inert_text(part) for i, part in enumerate(_KEPT_IN_FIELDS.split(text)))
