"""Imports point upstream only: agentwatch (base: config, errors, schema, inventory, lake) <- ingest <-
detectors <- flows, app.

DESIGN: nothing flows backwards. The CLI (`agentwatch.cli*`) and the sample fleet generator
(`agentwatch.sample`) are edges: they may call every stage, no stage may import them. Every way of
naming a module counts: `import x.y`, `from x import y`, `from x.y import z` and relative imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.paths import ROOT

EDGES = ("cli", "sample")
# stage folder -> stages it must never import
FORBIDDEN = {
    "agentwatch": ("ingest", "detectors", "flows", "app", *EDGES),
    "ingest": ("detectors", "flows", "app", *EDGES),
    "detectors": ("flows", "app", *EDGES),
    "flows": ("app", *EDGES),
    "app": ("flows", *EDGES),
}


def package_of(path: Path) -> str:
    """The dotted package a source file sits in (folders map to `agentwatch.<stage>`)."""
    parts = path.relative_to(ROOT).parent.parts
    return ".".join(parts) if parts[0] == "agentwatch" else ".".join(("agentwatch", *parts))


def imported_modules(source: str, package: str) -> set[str]:
    """Every module a source names in an import, relative ones resolved against its package."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def is_forbidden(name: str, stage: str) -> bool:
    """Whether a module name belongs to a stage (or edge) the importing stage must not use."""
    for other in FORBIDDEN[stage]:
        prefix = f"agentwatch.{other}"
        if name == prefix or name.startswith(f"{prefix}.") or (other == "cli" and name.startswith(f"{prefix}_")):
            return True
    return False


def stage_files(stage: str) -> list[Path]:
    """The Python files of a stage; the base stage is agentwatch/ (the lake package too) without its edges."""
    if stage != "agentwatch":
        return sorted((ROOT / stage).rglob("*.py"))
    base = ROOT / "agentwatch"
    return sorted(p for p in base.rglob("*.py")
                  if not p.name.startswith("cli") and p.relative_to(base).parts[0] not in EDGES)


@pytest.mark.parametrize("stage", sorted(FORBIDDEN))
def test_stage_imports_point_upstream(stage: str) -> None:
    files = stage_files(stage)
    assert files and (stage != "agentwatch" or ROOT / "agentwatch" / "lake" / "writer.py" in files)
    bad = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in sorted(imported_modules(path.read_text(encoding="utf-8"), package_of(path)))
        if is_forbidden(name, stage)
    ]
    assert bad == []


@pytest.mark.parametrize(("source", "package", "stage"), [
    ("from agentwatch import detectors", "agentwatch.ingest", "ingest"),
    ("from ..flows import pipeline", "agentwatch.detectors", "detectors"),
    ("from .. import app", "agentwatch.flows", "flows"),
    ("def later():\n    import agentwatch.flows.steps", "agentwatch.detectors", "detectors"),
    ("from agentwatch.cli import main", "agentwatch.detectors", "detectors"),
    ("from agentwatch.cli.detect import detect", "agentwatch.flows", "flows"),
    ("from agentwatch.sample.generate import write_sample", "agentwatch.app", "app"),
    ("from agentwatch import sample", "agentwatch.flows", "flows"),
    ("from agentwatch.ingest.schema import EVENT_SCHEMA", "agentwatch", "agentwatch"),
])
def test_every_way_of_importing_a_downstream_module_is_caught(source: str, package: str, stage: str) -> None:
    assert any(is_forbidden(name, stage) for name in imported_modules(source, package))


@pytest.mark.parametrize(("source", "package", "stage"), [
    ("from agentwatch import errors, lake", "agentwatch.detectors", "detectors"),
    ("from . import entities", "agentwatch.detectors", "detectors"),
    ("from agentwatch.detectors.metrics.models import build_metrics", "agentwatch.flows", "flows"),
    ("from agentwatch.client import x", "agentwatch.ingest", "ingest"),
])
def test_upstream_imports_pass(source: str, package: str, stage: str) -> None:
    assert not any(is_forbidden(name, stage) for name in imported_modules(source, package))


def test_detectors_import_no_writer_internals_from_ingest() -> None:
    internals = ("agentwatch.ingest.staging", "agentwatch.ingest.pipeline", "agentwatch.ingest.sanitize.sanitizer")
    found = [f"{path.relative_to(ROOT)} imports {name}" for path in stage_files("detectors")
             for name in imported_modules(path.read_text(encoding="utf-8"), package_of(path))
             if name.startswith(internals)]
    assert found == []
