"""Secrets wrapped in base64: OTLP `bytesValue` attributes (stored as base64 in `attrs`), Kubernetes
Secret manifests, `echo … | base64` in a shell transcript.

Decoding every base64-looking run of every row would cost more than all other masking together, so the
rows are gated on the *encoded* form instead: a literal that every secret rule needs (`AKIA`, `password`,
`ghp_`, ...) has, at each of the three byte alignments, a fixed stretch of base64 characters. Polars scans
for those stretches (a literal search, vectorized); only rows holding one go to Python, which decodes
their runs and applies the full rule set to the decoded text.
"""

from __future__ import annotations

import base64
import binascii
import re

# At least 20 characters: the shortest wrapped secret worth finding (`password=abc1` is 16 bytes).
BASE64_RUN = r"[A-Za-z0-9+/_\-]{20,}={0,2}"
# Literals whose usual casing is neither lower, upper nor capitalized.
# and prefixes too short to gate on alone, with the character that follows them (Twilio `SK` + hex,
# Telegram `:AA`).
_MIXED_CASE = (
    "eyJ", "AIza", "xoxb-", "xoxp-", "sk-ant-", "BEGIN", "PRIVATE KEY", "SG.", "pypi-AgEI", ":AA",
    *(f"SK{digit}" for digit in "0123456789abcdef"),
)  # fmt: skip


_HEX = re.compile(r"[0-9a-f]+|[0-9A-F]+")


def decode_run(run: str) -> str | None:
    """A base64 run (standard or URL-safe, padding optional) decoded as UTF-8 text; None if it is not."""
    body = run.rstrip("=").replace("-", "+").replace("_", "/")
    body = body[: len(body) - 1] if len(body) % 4 == 1 else body
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _encoded_stretches(literal: bytes) -> set[str]:
    """The base64 characters fixed by `literal` alone, at each byte alignment (standard and URL-safe)."""
    out = set()
    for shift in range(3):
        low = base64.b64encode(b"\x00" * shift + literal + b"\x00\x00\x00").decode()
        high = base64.b64encode(b"\xff" * shift + literal + b"\xff\xff\xff").decode()
        best = current = ""
        for a, b in zip(low, high, strict=True):
            current = current + a if a == b else ""
            best = max(best, current, key=len)
        if len(best) >= 3:
            out |= {best, best.replace("+", "-").replace("/", "_")}
    return out


def gate_pattern(anchors: tuple[str, ...]) -> str:
    """A literal alternation matching base64 text that may decode to one of the anchors (in its casings)."""
    forms = {f for a in anchors if len(a) >= 3 for f in (a, a.upper(), a.capitalize())} | set(_MIXED_CASE)
    # A stretch of hex digits alone would fire on every trace id and hash: those need more context.
    stretches = {s for form in forms for s in _encoded_stretches(form.encode()) if not _HEX.fullmatch(s)}
    return "|".join(re.escape(s) for s in sorted(stretches))
