"""Hostile characters are decided by Unicode category (Cc, Cf, Zl, Zp, Co, Cs, Default_Ignorable), the
same way in the ingest flag (Rust regex, vectorized) and in `inert_text` (table and csv output)."""

from __future__ import annotations

import json
import unicodedata

import orjson
import polars as pl
import pytest

from agentwatch.inert import inert_text, is_unsafe
from agentwatch.ingest.sanitize.hostile import flag_frame

# The characters the independent review found unflagged and unescaped, one per kind.
REPORTED = [
    "\u061c", "\u00ad", "\u034f", "\u180e", "\u2028", "\u2029", *map(chr, range(0x206A, 0x2070)), "\u3164",
    "\uffa0", "\U000e0100", "\U000e01ef", "\ufff9", "\ufffa", "\ufffb", "\U0001d173", "\U0001d17a",
    "\ue000", "\U000f0000", "\U0010fffd", "\x08", "\x00", "\x85", "\u115f", "\u17b4", "\U0001bca0",
]  # fmt: skip
SOFT = ["\u200c", "\u200d", "\ufe0f", "\ufe00"]


def flags(texts: list[str]) -> list[bool]:
    frame = pl.DataFrame({"text": texts}, schema={"text": pl.String})
    return (flag_frame(frame, ["text"]).list.contains("invisible_unicode")).to_list()


def forms(char: str) -> list[str]:
    """The character between letters, raw and inside JSON (orjson keeps it, json.dumps escapes it).
    JSON writes backspace and form feed as `\\b` and `\\f`, which a regex in code text also holds
    (`\\bword`): those two are flagged raw only."""
    text = f"pay{char}pal"
    if char in "\x08\x0c":
        return [text] * 3
    return [text, orjson.dumps({"q": text}).decode(), json.dumps({"q": text})]


@pytest.mark.parametrize("char", REPORTED, ids=lambda c: f"U+{ord(c):04X}")
def test_each_reported_character_is_flagged_and_escaped(char: str) -> None:
    assert flags(forms(char)) == [True, True, True]
    assert char not in inert_text(f"pay{char}pal")
    assert is_unsafe(char)


def test_every_unsafe_bmp_character_is_flagged_plain_and_json_escaped() -> None:
    unsafe = [chr(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF and is_unsafe(chr(c))]
    unsafe = [c for c in unsafe if c not in SOFT + ["\x07", "\t", "\n", "\r", "\x1b", "\x9b", "\ufeff"]]
    assert len(unsafe) > 6000  # private use alone is 6,400
    texts = [form for c in unsafe for form in forms(c)]
    missed = [f"U+{ord(texts[i // 3 * 3][3]):04X}" for i, hit in enumerate(flags(texts)) if not hit]
    assert missed == []
    assert all(c not in inert_text(c) for c in unsafe)


def test_no_letter_digit_mark_symbol_or_punctuation_is_flagged_or_escaped() -> None:
    safe = [
        chr(c) for c in range(0x20, 0x10000)
        if not 0xD800 <= c <= 0xDFFF and unicodedata.category(chr(c))[0] in "LMNPS" and not is_unsafe(chr(c))
    ]  # fmt: skip
    assert len(safe) > 40000
    texts = [f"word {c}{c} word" for c in safe]
    wrongly = [texts[i] for i, hit in enumerate(flags(texts)) if hit]
    assert wrongly == []
    assert all(inert_text(t) == t for t in texts)


@pytest.mark.parametrize("text", ["family 👨\u200d👩\u200d👧", "❤\ufe0f love", "क्\u200dष", "葛\U000e0100 is an IVS"])
def test_joiners_and_selectors_inside_scripts_and_emoji_are_not_flagged(text: str) -> None:
    expected = text.startswith("葛")  # supplementary variation selectors are flagged wherever they are
    assert flags([text]) == [expected]


@pytest.mark.parametrize("char", SOFT)
def test_joiners_and_selectors_next_to_ascii_are_flagged(char: str) -> None:
    # (ASCII-escaped JSON: a hex letter just before the escape reads as the end of an earlier escape, so
    # the ASCII neighbour here is `x`.)
    assert flags([f"admin{char}", f"x{char}y", json.dumps({"q": f"x{char}y"})]) == [True, True, True]


@pytest.mark.parametrize(
    "text",
    ["[click me](javascript:alert(document.cookie))", "[x]( JavaScript:fetch('//e.example'))",
     '<a href="javascript:void(0)">x</a>', "[x](vbscript:msgbox)"],
)  # fmt: skip
def test_script_links_are_flagged(text: str) -> None:
    frame = pl.DataFrame({"text": [text, json.dumps({"q": text})]})
    assert flag_frame(frame, ["text"]).list.contains("markdown_link_payload").to_list() == [True, True]


def test_inert_text_leaves_ordinary_text_alone_and_escapes_controls() -> None:
    assert inert_text("Résumé — “quoted” 中文 👍") == "Résumé — “quoted” 中文 👍"
    assert inert_text("a\x1b[2Jb\u202ec\U000e0041") == "a\\u001b[2Jb\\u202ec\\U000e0041"
