"""The rendering helpers: text inert, nested values as inert JSON, CSV cells a spreadsheet would run quoted,
alert state validated before anything is written."""

from __future__ import annotations

import pandas as pd
import pytest

from agentwatch.app import data, ui
from agentwatch.errors import AgentwatchError


def test_inert_escapes_controls_bidi_and_zero_width_and_keeps_markup_as_text() -> None:
    assert ui.inert("a\x1b[31mb\u202ec\u200bd <b>![x](http://h/)") == "a\\u001b[31mb\\u202ec\\u200bd <b>![x](http://h/)"
    assert ui.inert(None) == "" and ui.inert(float("nan")) == ""
    assert ui.inert(["\u202e", {"k": "\x07"}]) == '["\\u202e", {"k": "\\u0007"}]'


def test_inert_frame_touches_text_and_nested_cells_only() -> None:
    df = pd.DataFrame({"t": ["x\u202ey", None], "n": [1, 2], "l": [["\x1b"], []]})
    out = ui.inert_frame(df, preview=("t",))
    assert out["t"].tolist()[0] == "x\\u202ey" and out["n"].tolist() == [1, 2]
    assert out["l"].tolist() == ['["\\u001b"]', "[]"]
    assert df["t"].tolist()[0] == "x\u202ey"  # the input frame is left alone


def test_long_text_is_cut_in_previews() -> None:
    out = ui.inert_frame(pd.DataFrame({"t": ["a" * 500]}), preview=("t",))
    assert len(out["t"][0]) == ui.TEXT_PREVIEW and out["t"][0].endswith("…")


def test_csv_download_quotes_formula_cells() -> None:
    out = ui.to_csv(pd.DataFrame({"a": ["=HYPERLINK(\"http://x\")", "ok\u202e", "@sum"], "b": [1, 2, 3]}))
    lines = out.decode().splitlines()
    assert lines[1].startswith("\"'=HYPERLINK") and lines[2] == "ok\\u202e,2" and lines[3] == "'@sum,3"


@pytest.mark.parametrize(("status", "by", "reason"), [("reopened", "ana", None), ("closed", "ana", None),
                                                      ("acknowledged", " ", None)])
def test_bad_decisions_are_refused_before_the_lake_is_touched(tmp_path, status, by, reason) -> None:
    with pytest.raises(AgentwatchError):
        data.record_alert_state(str(tmp_path / "lake"), "k", status, by, "note", reason)
    assert not (tmp_path / "lake").exists()
