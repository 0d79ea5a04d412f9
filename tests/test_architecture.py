"""Imports point upstream only: agentwatch (base: config, errors, schema, inventory, lake) <- ingest <-
detectors <- flows, app; inside detectors, the nightly stages in order: metrics <- detect <- risk <-
escalate; and the lake is used through `agentwatch.lake`'s public names only.

DESIGN: nothing flows backwards. The CLI (`agentwatch.cli`) and the sample fleet generator
(`agentwatch.sample`) are edges: they may call every stage, no stage may import them. A later detector
stage may import an earlier one, never the reverse. Nothing outside `agentwatch/lake/` imports one of
its modules (tests/lake/, which tests them, excepted). Every way of naming a module counts:
`import x.y`, `from x import y`, `from x.y import z` and relative imports.
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
DETECTOR_STAGES = ("metrics", "detect", "risk", "escalate")  # nightly order: each may import the ones before it
LAKE = ROOT / "agentwatch" / "lake"
LAKE_MODULES = tuple(sorted(f"agentwatch.lake.{p.stem}" for p in LAKE.glob("*.py") if p.stem != "__init__"))


def package_of(path: Path) -> str:
    """The dotted package a source file sits in (folders map to `agentwatch.<stage>`; tests, bench as they are)."""
    parts = path.relative_to(ROOT).parent.parts
    return ".".join(parts) if parts[0] in ("agentwatch", "tests", "bench") else ".".join(("agentwatch", *parts))


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


def within(name: str, module: str) -> bool:
    """Whether a dotted name is `module` or inside it."""
    return name == module or name.startswith(f"{module}.")


def is_forbidden(name: str, stage: str) -> bool:
    """Whether a module name belongs to a stage (or edge) the importing stage must not use."""
    return any(within(name, f"agentwatch.{other}") for other in FORBIDDEN[stage])


def is_later_detector_stage(name: str, stage: str) -> bool:
    """Whether a module name belongs to a detector stage that runs after `stage`."""
    later = DETECTOR_STAGES[DETECTOR_STAGES.index(stage) + 1:]
    return any(within(name, f"agentwatch.detectors.{other}") for other in later)


def is_lake_internal(name: str) -> bool:
    """Whether a module name is one of the lake's own modules rather than a name `agentwatch.lake` exports."""
    return any(within(name, module) for module in LAKE_MODULES)


def stage_files(stage: str) -> list[Path]:
    """The Python files of a stage; the base stage is agentwatch/ (the lake package too) without its edges."""
    if stage != "agentwatch":
        return sorted((ROOT / stage).rglob("*.py"))
    base = ROOT / "agentwatch"
    return sorted(p for p in base.rglob("*.py") if p.relative_to(base).parts[0] not in EDGES)


def imports_of(path: Path) -> list[str]:
    """The modules one file imports, sorted."""
    return sorted(imported_modules(path.read_text(encoding="utf-8"), package_of(path)))


def outside_the_lake() -> list[Path]:
    """Every Python file of the repository but the lake's own and the tests of the lake."""
    roots = [ROOT / d for d in ("agentwatch", "ingest", "detectors", "flows", "app", "bench", "tests")]
    return sorted(p for root in roots for p in root.rglob("*.py")
                  if not p.is_relative_to(LAKE) and not p.is_relative_to(ROOT / "tests" / "lake"))


@pytest.mark.parametrize("stage", sorted(FORBIDDEN))
def test_stage_imports_point_upstream(stage: str) -> None:
    files = stage_files(stage)
    assert files and (stage != "agentwatch" or ROOT / "agentwatch" / "lake" / "writer.py" in files)
    bad = [f"{path.relative_to(ROOT)} imports {name}" for path in files for name in imports_of(path)
           if is_forbidden(name, stage)]
    assert bad == []


def test_every_detector_module_lives_in_a_stage_folder() -> None:
    stray = [p.relative_to(ROOT).as_posix() for p in stage_files("detectors")
             if p.relative_to(ROOT / "detectors").parts[0] not in DETECTOR_STAGES and p.name != "__init__.py"]
    assert stray == []
    assert all((ROOT / "detectors" / stage / "run.py").is_file() for stage in DETECTOR_STAGES)


@pytest.mark.parametrize("stage", DETECTOR_STAGES)
def test_detector_stages_import_only_earlier_stages(stage: str) -> None:
    files = sorted((ROOT / "detectors" / stage).rglob("*.py"))
    assert files
    bad = [f"{path.relative_to(ROOT)} imports {name}" for path in files for name in imports_of(path)
           if is_later_detector_stage(name, stage)]
    assert bad == []


def test_nothing_outside_the_lake_imports_its_modules() -> None:
    files = outside_the_lake()
    assert ROOT / "ingest" / "pipeline.py" in files and ROOT / "bench" / "bench_lake_write.py" in files
    bad = [f"{path.relative_to(ROOT)} imports {name}" for path in files for name in imports_of(path)
           if is_lake_internal(name)]
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
    ("from . import entities", "agentwatch.detectors.metrics", "detectors"),
    ("from agentwatch.detectors.metrics.models import build_metrics", "agentwatch.flows", "flows"),
    ("from agentwatch.client import x", "agentwatch.ingest", "ingest"),
    ("from agentwatch.clients import x", "agentwatch.ingest", "ingest"),
])
def test_upstream_imports_pass(source: str, package: str, stage: str) -> None:
    assert not any(is_forbidden(name, stage) for name in imported_modules(source, package))


@pytest.mark.parametrize(("source", "package", "stage"), [
    ("from agentwatch.detectors.detect.rules import LEVELS", "agentwatch.detectors.metrics", "metrics"),
    ("from agentwatch.detectors import risk", "agentwatch.detectors.detect", "detect"),
    ("from ..escalate import pause_gate", "agentwatch.detectors.risk", "risk"),
    ("def later():\n    import agentwatch.detectors.escalate.run", "agentwatch.detectors.metrics", "metrics"),
])
def test_every_way_of_importing_a_later_detector_stage_is_caught(source: str, package: str, stage: str) -> None:
    assert any(is_later_detector_stage(name, stage) for name in imported_modules(source, package))


@pytest.mark.parametrize(("source", "package", "stage"), [
    ("from agentwatch.detectors.metrics.verification import APPROVED", "agentwatch.detectors.risk", "risk"),
    ("from ..detect.rules import LEVELS", "agentwatch.detectors.escalate", "escalate"),
    ("from . import findings", "agentwatch.detectors.risk", "risk"),
    ("from agentwatch.detectors.riskier import x", "agentwatch.detectors.detect", "detect"),
])
def test_earlier_detector_stages_pass(source: str, package: str, stage: str) -> None:
    assert not any(is_later_detector_stage(name, stage) for name in imported_modules(source, package))


@pytest.mark.parametrize(("source", "package", "internal"), [
    ("from agentwatch.lake.store import local_folder", "agentwatch.ingest", True),
    ("from agentwatch.lake import store", "agentwatch.flows", True),
    ("import agentwatch.lake.manifest", "agentwatch.detectors.metrics", True),
    ("from ..lake.layout import EVENTS", "agentwatch.cli", True),
    ("from agentwatch.lake import Lake, local_folder", "agentwatch.ingest", False),
    ("import agentwatch.lake", "tests.flows", False),
])
def test_an_import_of_a_lake_module_is_told_from_a_public_name(source: str, package: str, internal: bool) -> None:
    assert any(is_lake_internal(name) for name in imported_modules(source, package)) is internal


def test_detectors_import_no_writer_internals_from_ingest() -> None:
    internals = ("agentwatch.ingest.staging", "agentwatch.ingest.pipeline", "agentwatch.ingest.sanitize.sanitizer")
    found = [f"{path.relative_to(ROOT)} imports {name}" for path in stage_files("detectors")
             for name in imports_of(path) if name.startswith(internals)]
    assert found == []
