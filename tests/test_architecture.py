"""Imports point upstream only: agentwatch (base: config, errors, schema, inventory, lake) <- ingest <-
detectors <- flows, app (DESIGN: nothing flows backwards). The command line (`agentwatch/cli*.py`) is
the edge that calls every stage."""

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


STAGES = ("ingest", "detectors", "flows", "app")


def backward_imports(path: Path, forbidden: tuple[str, ...]) -> list[str]:
    return [f"{path.relative_to(ROOT)} imports {name}" for name in imported_modules(path) for other in forbidden
            if name == f"agentwatch.{other}" or name.startswith(f"agentwatch.{other}.")]


def test_base_package_imports_no_stage() -> None:
    files = [p for p in sorted((ROOT / "agentwatch").rglob("*.py")) if not p.name.startswith("cli")]
    assert ROOT / "agentwatch" / "lake" / "core.py" in files
    assert [bad for path in files for bad in backward_imports(path, STAGES)] == []


def test_detectors_import_no_writer_internals_from_ingest() -> None:
    internals = ("agentwatch.ingest.stage", "agentwatch.ingest.pipeline", "agentwatch.ingest.sanitize")
    found = [f"{p.relative_to(ROOT)} imports {name}" for p in sorted((ROOT / "detectors").rglob("*.py"))
             for name in imported_modules(p) if name in internals]
    assert found == []


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
