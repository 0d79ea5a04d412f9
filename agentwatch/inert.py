"""Render attacker-controlled text inert for terminals and logs.

Control characters (ANSI escapes among them), bidi overrides, zero-width and tag characters are
shown as `\\uXXXX` escapes so a log line cannot move the cursor, recolour the terminal, hide text or
reorder what the analyst reads.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\U000e0000-\U000e007f]"
)


def inert_text(text: str) -> str:
    """The text with every unsafe character replaced by its escape."""
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
