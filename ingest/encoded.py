"""Secrets wrapped in base64: OTLP `bytesValue` attributes (stored as base64 in `attrs`), Kubernetes
Secret manifests, `echo … | base64` in a shell transcript.

Polars extracts the base64 runs of a column, decodes them (Rust) and keeps the runs whose bytes hold
one of the literals every secret rule needs; only those rows go to Python, which decodes the run again
and applies the full rule set to the decoded text.
"""

from __future__ import annotations

import base64
import binascii
import re

import polars as pl

# At least 20 characters: the shortest wrapped secret worth finding (`password=abc1` is 16 bytes).
BASE64_RUN = r"[A-Za-z0-9+/_\-]{20,}={0,2}"


def _case_forms(anchor: str) -> set[str]:
    """The casings a literal is written in: every casing for short ones (`AIza`, `eyJ`), else the usual three."""
    if len(anchor) > 4:
        return {anchor, anchor.upper(), anchor.capitalize()}
    forms = {""}
    for char in anchor:
        forms = {f + c for f in forms for c in {char.lower(), char.upper()}}
    return forms


def gate_literals(anchors: tuple[str, ...]) -> tuple[bytes, ...]:
    """Byte literals one of which every decoded secret holds: the rules' anchors in their casings."""
    return tuple(sorted({form.encode() for anchor in anchors if anchor for form in _case_forms(anchor)}))


_RUN = re.compile(BASE64_RUN)


def decode_run(run: str) -> str | None:
    """A base64 run (standard or URL-safe, padding optional) decoded as UTF-8 text; None if it is not."""
    body = run.rstrip("=").replace("-", "+").replace("_", "/")
    body = body[: len(body) - len(body) % 4 if len(body) % 4 == 1 else len(body)]
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
        return raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def encoded_rows(column: pl.Series, detect: re.Pattern[str], literals: tuple[bytes, ...]) -> pl.Series:
    """Per row, True when one of its base64 runs decodes to text that holds a secret."""
    hits = pl.repeat(False, column.len(), eager=True)
    runs = (
        column.rename("text").to_frame().with_row_index("row")
        .select("row", pl.col("text").str.extract_all(BASE64_RUN).alias("run"))
        .explode("run").drop_nulls("run")
        .filter(pl.col("run").str.contains("[A-Z]") & pl.col("run").str.contains("[a-z]"))
    )  # fmt: skip
    if runs.is_empty():
        return hits
    decoded = _decoded(pl.col("run"))
    gated = runs.filter(pl.any_horizontal(decoded.bin.contains(literal) for literal in literals).fill_null(False))
    rows = [row for row, run in gated.iter_rows() if (text := decode_run(run)) is not None and detect.search(text)]
    return hits.scatter(pl.Series(rows, dtype=pl.UInt32), True) if rows else hits


def _decoded(run: pl.Expr) -> pl.Expr:
    """The run decoded by polars: URL-safe letters mapped, trailing partial quantum cut, padding restored."""
    body = run.str.strip_chars_end("=").str.replace_all("-", "+", literal=True).str.replace_all("_", "/", literal=True)
    whole = body.str.slice(0, (body.str.len_bytes() // 4) * 4)
    return whole.str.decode("base64", strict=False)
