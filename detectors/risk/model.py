"""The framework's two matrices over the six dimensions, and the controls that move agents in them.

Vulnerability = mean(Access, Action, Autonomy, 6 - Oversight, 6 - Goal Stability, 6 - Monitoring):
the three safeguards are inverted so that every term grows with risk. A score is "high" when it is
above `high` (3 by default: the midpoint of 1-5 counts as low, as in the framework's CI/CD example,
whose Goal Stability 3 is "medium"). One implementation, as polars expressions, serves the nightly
table and the what-if, so they can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import polars as pl
import yaml

from agentwatch.errors import ConfigError
from agentwatch.inventory import DIMENSIONS

INVERTED = ("oversight", "goal_stability", "monitoring")  # higher is safer
MODEL1 = ("Safe Optimization", "Strategic Risk", "Low Impact", "High Exposure")
MODEL2 = ("Minimal Risk", "Managed Risk", "Latent Risk", "Critical Risk")
DEFAULT_HIGH = 3.0


@dataclass(frozen=True)
class Control:
    """One framework control and its effect on the dimensions (signed change of the 1-5 score)."""

    name: str
    summary: str
    effects: MappingProxyType


def vulnerability_expr(prefix: str) -> pl.Expr:
    """Vulnerability from the columns `<prefix><dimension>`."""
    terms = [(6 - pl.col(f"{prefix}{d}")) if d in INVERTED else pl.col(f"{prefix}{d}") for d in DIMENSIONS]
    return pl.sum_horizontal(terms) / len(terms)


def model1_expr(vulnerability: pl.Expr, value: pl.Expr, high: float) -> pl.Expr:
    """Model 1 quadrant (Vulnerability vs Value); null when the value is unknown (undeclared agent)."""
    high_value, high_vuln = value > high, vulnerability > high
    return (pl.when(value.is_null()).then(None)
            .when(high_value & ~high_vuln).then(pl.lit(MODEL1[0]))
            .when(high_value & high_vuln).then(pl.lit(MODEL1[1]))
            .when(~high_value & ~high_vuln).then(pl.lit(MODEL1[2]))
            .otherwise(pl.lit(MODEL1[3])))


def model2_expr(autonomy: pl.Expr, oversight: pl.Expr, high: float) -> pl.Expr:
    """Model 2 quadrant (Autonomy vs Oversight)."""
    high_autonomy, high_oversight = autonomy > high, oversight > high
    return (pl.when(autonomy.is_null() | oversight.is_null()).then(None)
            .when(high_oversight & ~high_autonomy).then(pl.lit(MODEL2[0]))
            .when(high_oversight & high_autonomy).then(pl.lit(MODEL2[1]))
            .when(~high_oversight & ~high_autonomy).then(pl.lit(MODEL2[2]))
            .otherwise(pl.lit(MODEL2[3])))


def add_positions(frame: pl.DataFrame, kind: str, high: float) -> pl.DataFrame:
    """Add `vulnerability_<kind>`, `model1_<kind>`, `model2_<kind>` from the `<kind>_<dim>` columns."""
    vuln = vulnerability_expr(f"{kind}_")
    return frame.with_columns(vuln.alias(f"vulnerability_{kind}")).with_columns(
        model1_expr(pl.col(f"vulnerability_{kind}"), pl.col("business_value"), high).alias(f"model1_{kind}"),
        model2_expr(pl.col(f"{kind}_autonomy"), pl.col(f"{kind}_oversight"), high).alias(f"model2_{kind}"),
    )


def place(scores: Mapping[str, float], value: float | None, high: float = DEFAULT_HIGH) -> dict[str, Any]:
    """Vulnerability and both quadrants of one set of scores."""
    row = {"business_value": value, **{f"s_{d}": scores[d] for d in DIMENSIONS}}
    frame = pl.DataFrame([row], schema={"business_value": pl.Float64, **{f"s_{d}": pl.Float64 for d in DIMENSIONS}})
    out = add_positions(frame, "s", high).row(0, named=True)
    return {"vulnerability": out["vulnerability_s"], "model1": out["model1_s"], "model2": out["model2_s"]}


def apply_controls(
    scores: Mapping[str, int], controls: Mapping[str, Control], names: Iterable[str], in_place: Iterable[str] = ()
) -> dict[str, int]:
    """The scores after the named controls (those already in place are not applied twice), clamped to 1-5."""
    after = dict(scores)
    for name in dict.fromkeys(names):
        if name not in controls:
            raise ConfigError(f"unknown control {name!r}; known: {', '.join(controls)}", "--what-if")
        if name in set(in_place):
            continue
        for dim, change in controls[name].effects.items():
            after[dim] = min(5, max(1, after[dim] + change))
    return after


def load_controls(path: str | Path | None = None) -> dict[str, Control]:
    """The controls configuration: the packaged `controls.yml`, or the file the `risk_controls` setting names."""
    where = str(path) if path else "agentwatch/detectors/risk/controls.yml"
    try:
        text = Path(path).read_text(encoding="utf-8") if path else \
            resources.files("agentwatch.detectors.risk").joinpath("controls.yml").read_text(encoding="utf-8")
        doc = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read controls: {exc}", where) from exc
    entries = doc.get("controls") if isinstance(doc, dict) else None
    if not isinstance(entries, dict) or not entries:
        raise ConfigError("controls file must have a non-empty mapping `controls`", where)
    problems = [p for name, entry in entries.items() for p in _control_problems(name, entry)]
    if problems:
        raise ConfigError("; ".join(problems), where)
    return {name: Control(name, str(entry.get("summary") or ""), MappingProxyType(dict(entry["effects"])))
            for name, entry in entries.items()}


def _control_problems(name: Any, entry: Any) -> list[str]:
    effects = entry.get("effects") if isinstance(entry, dict) else None
    if not isinstance(effects, dict) or not effects:
        return [f"controls.{name}: `effects` must map dimensions to signed changes"]
    problems = []
    for dim, change in effects.items():
        if dim not in DIMENSIONS:
            problems.append(f"controls.{name}.effects: unknown dimension {dim!r}; known: {', '.join(DIMENSIONS)}")
        elif not isinstance(change, int) or isinstance(change, bool) or not -4 <= change <= 4 or change == 0:
            problems.append(f"controls.{name}.effects.{dim}: must be a non-zero integer from -4 to 4, got {change!r}")
        elif (change > 0) != (dim in INVERTED):
            problems.append(f"controls.{name}.effects.{dim}: a control lowers risk; {change:+d} raises it")
    return problems
