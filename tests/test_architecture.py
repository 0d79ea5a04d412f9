"""Imports point upstream only: ingest <- detectors <- flows, app (DESIGN: nothing flows backwards)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# stage folder -> stages it must never import
FORBIDDEN = {
    "ingest": ("detectors", "flows", "app"),
    "detectors": ("flows", "app"),
    "flows": ("app",),
    "app": ("flows",),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("stage", sorted(FORBIDDEN))
def test_stage_imports_point_upstream(stage: str) -> None:
    files = sorted((ROOT / stage).rglob("*.py"))
    assert files or stage in ("flows", "app")
    bad = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in imported_modules(path)
        for other in FORBIDDEN[stage]
        if name == f"agentwatch.{other}" or name.startswith(f"agentwatch.{other}.")
    ]
    assert bad == []
