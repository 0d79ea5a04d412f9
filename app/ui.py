"""Rendering helpers every page uses: log text is attacker-controlled, so it only ever reaches the
browser as plain text (dataframes, `st.code`, `st.text`) with control, bidi and zero-width
characters escaped (`agentwatch.inert.inert_text`). Markdown (`st.markdown`, `st.info`, widget
labels) only ever carries the app's own words.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from agentwatch.app import data
from agentwatch.inert import inert_text

TEXT_PREVIEW = 160
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet runs as a formula


def inert(value: Any) -> str:
    """Any value as inert plain text (lists and structs as JSON)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, str):
        return inert_text(value)
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | tuple | dict):
        return inert_text(json.dumps(value, default=str, ensure_ascii=False))
    return inert_text(str(value))


def _inert_cell(value: Any) -> Any:
    if isinstance(value, str | list | tuple | dict | np.ndarray):
        return inert(value)
    return value


def inert_frame(df: pd.DataFrame, *, preview: tuple[str, ...] = ()) -> pd.DataFrame:
    """A copy whose text (and nested) cells are inert; `preview` columns cut to TEXT_PREVIEW characters."""
    out = df.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(_inert_cell)
            if column in preview:
                out[column] = out[column].map(lambda s: s if not isinstance(s, str) or len(s) <= TEXT_PREVIEW
                                              else s[: TEXT_PREVIEW - 1] + "…")
    return out


HIGHLIGHT = "background-color: rgba(255, 75, 75, 0.18)"


def table(
    df: pd.DataFrame, *, key: str | None = None, preview: tuple[str, ...] = (), highlight: pd.Series | None = None,
    **options: Any,
) -> Any:
    """Show a frame as a dataframe (never as markdown or HTML); `highlight` marks rows (a boolean Series)."""
    shown: Any = inert_frame(df, preview=preview)
    if highlight is not None:
        marks = highlight.reset_index(drop=True).fillna(False).astype(bool)
        shown = shown.reset_index(drop=True).style.apply(
            lambda row: [HIGHLIGHT if marks.iloc[row.name] else ""] * len(row), axis=1)
    return st.dataframe(shown, hide_index=True, width="stretch", key=key, **options)


def text_block(value: Any) -> None:
    """Show one value in full as a plain code block (its line breaks kept, every other control escaped)."""
    text = "\n".join(inert(line) for line in value.split("\n")) if isinstance(value, str) else inert(value)
    st.code(text or "(empty)", language=None, wrap_lines=True)


def need_lake() -> data.Source:
    """The current source, or stop the page with what to run when there is no lake yet."""
    src = data.current_source()
    if not src.head:
        st.info("There is no lake here yet. Ingest some agent telemetry first: "
                "`agentwatch ingest PATH` (or `agentwatch run PATH`, or `make demo`). Lake folder:")
        st.code(src.lake, language=None)
        st.stop()
    return src


def need_view(src: data.Source, view: str, *columns: str, run: str, what: str) -> None:
    """Stop the page with an empty state when a view (or its columns) is not in the lake yet."""
    if not data.has(src, view, *columns):
        st.info(f"No {what} in this lake yet: run `{run}` (or `agentwatch run`) and reload.")
        st.stop()


def values(cell: Any) -> list:
    """A list cell of a frame (None, list or numpy array) as a list."""
    return [] if cell is None or (isinstance(cell, float) and np.isnan(cell)) else list(cell)


def when(value: Any) -> str:
    """A timestamp or date for a caption."""
    if isinstance(value, datetime | pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    return "—"


def to_csv(df: pd.DataFrame) -> bytes:
    """A frame as CSV for download: text inert, and cells a spreadsheet would run as formulas quoted."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([inert(c) for c in df.columns])
    for row in inert_frame(df).itertuples(index=False):
        writer.writerow(["'" + v if isinstance(v, str) and v.startswith(FORMULA_START) else v for v in row])
    return out.getvalue().encode("utf-8")
