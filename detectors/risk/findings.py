"""Declared-vs-observed gaps as findings, and moves into Critical or Strategic Risk as alerts.

A gap is how much riskier the measured score is than the owner's declared one (measured - declared
for Access, Action, Autonomy; declared - measured for the safeguards). A gap of `gap` or more is a
finding, one per run of consecutive observed days with that gap (a standing mis-declaration is one
finding, not one a night): `gap` medium, `gap + 1` high, more critical. An agent that
measures safer than declared is no finding. Keys are hashes of what identifies the fact, so re-runs
replace rows with the same ids and never duplicate an alert.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import polars as pl

from agentwatch.detectors.risk.model import INVERTED, MODEL1, MODEL2, Control
from agentwatch.inventory import DIMENSIONS

GAP_TITLES = {
    "access": "reaches more than its owner declared",
    "action": "performs more consequential actions than declared",
    "autonomy": "acts more autonomously than declared",
    "oversight": "is supervised less than declared",
    "goal_stability": "holds its goal less steadily than declared",
    "monitoring": "is watched less than declared",
}
# measured quadrant -> (rule id, alert level)
ALERT_QUADRANTS = {
    ("model2_measured", MODEL2[3]): ("risk.enters_critical_risk", "high"),
    ("model1_measured", MODEL1[1]): ("risk.enters_strategic_risk", "medium"),
}
FINDINGS_SCHEMA = {
    "finding_id": pl.String, "source": pl.String, "rule_id": pl.String, "title": pl.String, "level": pl.String,
    "agent_id": pl.String, "session_id": pl.String, "ts": pl.Datetime("us", "UTC"),
    "evidence_event_ids": pl.List(pl.String), "detail": pl.String, "tags": pl.List(pl.String),
}
ALERTS_SCHEMA = {
    "alert_key": pl.String, "agent_id": pl.String, "session_id": pl.String, "level": pl.String, "title": pl.String,
    "rule_ids": pl.List(pl.String), "risk_score": pl.Float64, "first_seen_at": pl.Datetime("us", "UTC"),
    "last_seen_at": pl.Datetime("us", "UTC"), "day": pl.Date, "quadrant": pl.String,
}


def build_findings(
    risk: pl.DataFrame, events: pl.DataFrame, *, gap: int, controls: Mapping[str, Control]
) -> pl.DataFrame:
    """One finding per declared agent, dimension and run of observed days measured `gap` or more riskier
    than declared. `events`: `agent_id, day, dimension, evidence_event_ids` (the calls behind each day)."""
    declared = risk.filter(pl.col("is_declared"))
    frames = [_dimension_gaps(declared, events.filter(pl.col("dimension") == dim).drop("dimension"), dim, gap,
                              _fixing_controls(dim, controls)) for dim in DIMENSIONS]
    return pl.concat(frames).sort("agent_id", "ts", "rule_id").select(list(FINDINGS_SCHEMA))


def gap_days(risk: pl.DataFrame, *, gap: int) -> pl.DataFrame:
    """`agent_id, day, dimension` of every declared agent-day measured `gap` or more riskier than declared."""
    declared = risk.filter(pl.col("is_declared"))
    frames = [declared.filter(excess_expr(dim) >= gap).select("agent_id", "day", pl.lit(dim).alias("dimension"))
              for dim in DIMENSIONS]
    return pl.concat(frames)


def excess_expr(dim: str) -> pl.Expr:
    """How much riskier the measured score is than the declared one."""
    measured, declared = pl.col(f"measured_{dim}"), pl.col(f"declared_{dim}")
    return (declared - measured) if dim in INVERTED else (measured - declared)


def _dimension_gaps(
    risk: pl.DataFrame, events: pl.DataFrame, dim: str, gap: int, fixes: list[str]
) -> pl.DataFrame:
    measured, declared = pl.col(f"measured_{dim}"), pl.col(f"declared_{dim}")
    excess = excess_expr(dim)
    rule_id = f"risk.{dim}_above_declared" if dim not in INVERTED else f"risk.{dim}_below_declared"
    hits = episodes(risk.with_columns(excess.alias("excess")), pl.col("excess") >= gap)
    days = (hits.join(events, on=["agent_id", "day"], how="left")
            .sort("agent_id", "episode", pl.col("excess"), "day", descending=[False, False, True, False]))
    grouped = days.group_by("agent_id", "episode", maintain_order=True).agg(
        pl.col("day").min().alias("first_day"), pl.col("day").max().alias("last_day"),
        pl.len().alias("count_days"), pl.col("first_started_at").min().alias("ts"),
        pl.col("excess").max().alias("excess"), measured.first().alias("measured"), declared.first().alias("declared"),
        pl.col("day").first().alias("worst_day"),
        pl.col("evidence").first().str.json_path_match(f"$.{dim}").fill_null("null").alias("worst_evidence"),
        pl.col("evidence_event_ids").drop_nulls().list.explode().drop_nulls().unique(maintain_order=True)
        .head(20).alias("evidence_event_ids"),
    )
    level = (pl.when(pl.col("excess") >= gap + 2).then(pl.lit("critical"))
             .when(pl.col("excess") >= gap + 1).then(pl.lit("high")).otherwise(pl.lit("medium")))
    detail = pl.concat_str([
        pl.lit(f'{{"dimension":"{dim}","first_day":"'), pl.col("first_day").cast(pl.String),
        pl.lit('","last_day":"'), pl.col("last_day").cast(pl.String), pl.lit('","count_days":'),
        pl.col("count_days").cast(pl.String), pl.lit(',"worst_day":"'), pl.col("worst_day").cast(pl.String),
        pl.lit('","measured":'), pl.col("measured").cast(pl.String), pl.lit(',"declared":'),
        pl.col("declared").cast(pl.String), pl.lit(',"evidence":'), pl.col("worst_evidence"), pl.lit("}"),
    ])
    return grouped.select(
        _hash_key(pl.lit("risk"), pl.lit(rule_id), pl.col("agent_id"), pl.col("first_day").cast(pl.String))
        .alias("finding_id"),
        pl.lit("risk").alias("source"),
        pl.lit(rule_id).alias("rule_id"),
        pl.format("{} {} ({} measured, {} declared; {} day(s) from {})", "agent_id", pl.lit(GAP_TITLES[dim]),
                  "measured", "declared", "count_days", "first_day").alias("title"),
        level.alias("level"),
        pl.col("agent_id"),
        pl.lit(None, pl.String).alias("session_id"),
        pl.col("ts").cast(pl.Datetime("us", "UTC")),
        pl.col("evidence_event_ids").cast(pl.List(pl.String)),
        detail.alias("detail"),
        pl.lit(["risk", dim, *fixes], pl.List(pl.String)).alias("tags"),
    )


def episodes(risk: pl.DataFrame, inside: pl.Expr) -> pl.DataFrame:
    """The rows where `inside` holds, numbered by run: a run starts when it holds on an agent's observed
    day and did not on its previous observed day (or there was none)."""
    return (risk.sort("agent_id", "day")
            .with_columns(inside.fill_null(False).alias("inside"))
            .with_columns((pl.col("inside") & ~pl.col("inside").shift(1).over("agent_id").fill_null(False))
                          .cum_sum().over("agent_id").alias("episode"))
            .filter(pl.col("inside")))


def build_alerts(risk: pl.DataFrame) -> pl.DataFrame:
    """One alert per run of consecutive observed days an agent spends in Critical or Strategic Risk."""
    frames = [_quadrant_episodes(risk, column, quadrant, rule_id, level)
              for (column, quadrant), (rule_id, level) in ALERT_QUADRANTS.items()]
    return pl.concat(frames).sort("agent_id", "first_seen_at", "alert_key").select(list(ALERTS_SCHEMA))


def _quadrant_episodes(risk: pl.DataFrame, column: str, quadrant: str, rule_id: str, level: str) -> pl.DataFrame:
    inside = episodes(risk, pl.col(column) == quadrant)
    grouped = inside.group_by("agent_id", "episode").agg(
        pl.col("day").min().alias("day"),
        pl.col("first_started_at").min().alias("first_seen_at"),
        (pl.col("day").max().cast(pl.Datetime("us", "UTC")) + pl.duration(days=1) - pl.duration(microseconds=1))
        .alias("last_seen_at"),
        (pl.col("vulnerability_measured").max() / 5).alias("risk_score"),
        pl.col("measured_autonomy").first().alias("autonomy"),
        pl.col("measured_oversight").first().alias("oversight"),
        pl.col("vulnerability_measured").first().alias("vulnerability"),
    )
    because = (pl.format("autonomy {}, oversight {}", "autonomy", "oversight") if column.startswith("model2")
               else pl.format("vulnerability {}", pl.col("vulnerability").round(2)))
    return grouped.select(
        _hash_key(pl.lit("risk"), pl.lit(rule_id), pl.col("agent_id"), pl.col("day").cast(pl.String))
        .alias("alert_key"),
        pl.col("agent_id"),
        pl.lit(None, pl.String).alias("session_id"),
        pl.lit(level).alias("level"),
        pl.format("{} moved into {} on {} ({})", "agent_id", pl.lit(quadrant), "day", because).alias("title"),
        pl.lit([rule_id], pl.List(pl.String)).alias("rule_ids"),
        pl.col("risk_score").cast(pl.Float64),
        pl.col("first_seen_at").cast(pl.Datetime("us", "UTC")),
        pl.col("last_seen_at").cast(pl.Datetime("us", "UTC")),
        pl.col("day"),
        pl.lit(quadrant).alias("quadrant"),
    )


def _fixing_controls(dim: str, controls: Mapping[str, Control]) -> list[str]:
    return sorted(name for name, c in controls.items() if dim in c.effects)


def _hash_key(*parts: pl.Expr) -> pl.Expr:
    """A stable key: the hex sha256 of the parts joined by a separator no id contains."""
    return pl.concat_str(list(parts), separator="\x1f").map_batches(
        lambda s: s.map_elements(_sha256, return_dtype=pl.String), return_dtype=pl.String)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]
