"""The hunting notebooks run headless (nbclient) against a measured lake and show what they promise;
in git they carry no outputs."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.app.app_lake import INVENTORY, add_detections, measured_lake
from tests.support.paths import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = measured_lake(tmp_path_factory.mktemp("nb") / "lake")
    add_detections(lake)
    return lake


def run_notebook(path: Path, lake: Path, monkeypatch: pytest.MonkeyPatch) -> nbformat.NotebookNode:
    monkeypatch.setenv("AGENTWATCH_LAKE", str(lake))
    monkeypatch.setenv("AGENTWATCH_INVENTORY", str(INVENTORY))
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def outputs(nb: nbformat.NotebookNode) -> tuple[str, list[str]]:
    """All text the notebook printed or displayed, and the mime types of its rich outputs."""
    text, kinds = [], []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text.append(out.get("text", "") + out.get("data", {}).get("text/plain", ""))
            kinds.extend(out.get("data", {}))
    return "\n".join(text), kinds


def test_there_are_the_three_hunts() -> None:
    names = [p.stem for p in NOTEBOOKS]
    assert names == ["01_exfiltration_after_injection", "02_goal_drift_review", "03_scope_creep_fleet"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebooks_have_no_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    assert any("Lake(LAKE).require().connect(" in c.source for c in code)  # one way in: the catalog


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_headless_and_draws_its_chart(path: Path, lake: Path, monkeypatch) -> None:
    nb = run_notebook(path, lake, monkeypatch)
    text, kinds = outputs(nb)
    assert any("vegalite" in k for k in kinds), kinds  # a chart where a picture beats a table
    if path.stem.startswith("01"):
        assert "carry an out-of-scope entity" in text
        found = re.search(r"(\d+) entities planted by a tool result and sent out through a sink", text)
        assert found and int(found.group(1)) > 0  # the sample's prompt injections are in the lake
    if path.stem.startswith("02"):
        assert "agent:" in text
    if path.stem.startswith("03"):
        assert "out_of_scope" in text
