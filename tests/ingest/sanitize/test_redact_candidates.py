"""The one-pass candidate filter in front of masking: every row any first-stage scan fires on is a
candidate, so masking a frame gives exactly what running every scan over every row gives."""

from __future__ import annotations

import base64

import polars as pl

from agentwatch.ingest.sanitize import redact
from agentwatch.ingest.sanitize.secret_rules import RULES
from tests.ingest.sanitize.test_redact import CASES, KEY, build, look_alikes
from tests.ingest.sanitize.test_secret_leaks import KEPT, LEAKS

COLUMNS = ["text", "tool_args", "attrs"]


def corpus() -> list[str]:
    """Secrets in every encoding, leaks and look-alikes, in other casings, base64-wrapped, and with the
    non-ASCII letters polars' case folding reads as ASCII ones (`ſ` for `s`, the Kelvin sign for `k`)."""
    texts = [build(kind, encoding) for kind, encoding in CASES] + look_alikes() + list(LEAKS) + KEPT
    variants = [f(t) for t in texts for f in (str.upper, str.lower, str.swapcase, str.title)]
    wrapped = [base64.b64encode(t.encode()).decode() for t in texts]
    folded = [t.replace("s", "\u017f").replace("k", "\u212a") for t in texts]
    return texts + variants + wrapped + folded + ["", "plain words only", "caf\u00e9 au lait"]


def frame(texts: list[str]) -> pl.DataFrame:
    """Each text alone in each column, and split across two columns."""
    rows = [{name: text if name == column else None for name in COLUMNS} for text in texts for column in COLUMNS]
    rows += [{"text": text[: len(text) // 2], "tool_args": text[len(text) // 2 :], "attrs": "{}"} for text in texts]
    return pl.DataFrame(rows, schema={name: pl.String for name in COLUMNS})


def test_every_row_a_first_stage_scan_fires_on_is_a_candidate() -> None:
    df = frame(corpus())
    candidates = redact.candidate_rows(df, COLUMNS)
    for name in COLUMNS:
        for gate, expr in redact._gates(pl.col(name)):
            fired = df.select(expr).to_series()
            missed = df.filter(fired & ~candidates).get_column(name).to_list()
            assert not missed, (name, gate, missed[:3])


def test_masking_candidates_only_gives_what_scanning_every_row_gives() -> None:
    df = frame(corpus())
    masked, redactions = redact.mask_frame(df, COLUMNS, KEY)
    every, counts = redact._mask_candidates(df, COLUMNS, KEY)
    assert redactions.sum() > 100 and redactions.to_list() == counts.to_list()
    assert masked.equals(df.with_columns(every))


def test_every_context_rule_names_its_literals_for_the_filter() -> None:
    for rule in RULES:
        if rule.context is not None and rule.context_first:
            assert rule.context in redact._CONTEXT_ANCHORS, rule.name
    assert "" not in redact.GATE_ANCHORS
