"""The risk model run: six dimensions measured per agent and day, both matrices for measured and
declared scores, declared-vs-observed gaps as findings, moves into Critical or Strategic Risk as alerts.

Writes, through the lake, the tables it owns: `agent_risk`, `risk_findings` (same columns as
`findings`, `source = 'risk'`) and `risk_alerts` (same columns as `alerts`). It reads only the session
metrics (`sessions`, `steps`), so it works on a lake where `detect` never ran. How the metrics map to
1-5 is written beside the SQL (`sql/risk_dimensions.sql`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from agentwatch.detectors.metrics.verification import APPROVED
from agentwatch.detectors.risk.findings import build_alerts, build_findings, gap_days
from agentwatch.detectors.risk.model import DEFAULT_HIGH, Control, add_positions, load_controls
from agentwatch.errors import ConfigError, LakeError
from agentwatch.inventory import DIMENSIONS, Agent
from agentwatch.lake import Lake

SQL_DIR = Path(__file__).parent / "sql"
SIGNALS_SCHEMA = {"agent_id": pl.String, "day": pl.Date, "dimension": pl.String, "count_findings": pl.Int64,
                  "finding_ids": pl.List(pl.String)}
DEFAULT_GAP = 2
# A tool whose arguments carry a command line can do anything its runtime can: its range of
# operations is unbounded (Claude Code's Bash, Codex's shell, `kubectl`/`aws` wrappers, SQL consoles).
COMMAND_ARGS = r'"(command|cmd|script|code)"\s*:'


@dataclass(frozen=True)
class RiskRun:
    """What one risk run wrote."""

    agents: int
    agent_days: int
    undeclared_agents: tuple[str, ...]
    findings: int
    alerts: int
    entry: dict


def run_risk(
    lake: Lake | Path | str, *, inventory: Mapping[str, Agent], now: datetime, high: float = DEFAULT_HIGH,
    gap: int = DEFAULT_GAP, controls: Mapping[str, Control] | None = None, memory_limit: str | None = None,
) -> RiskRun:
    """Measure every agent's dimensions per day and replace `agent_risk`, `risk_findings`, `risk_alerts`."""
    if not 1 <= high < 5:
        raise ConfigError(f"`risk_high` must be from 1 to 5 (exclusive), got {high!r}", "risk_high")
    if gap < 1:
        raise ConfigError(f"`risk_gap` must be at least 1, got {gap!r}", "risk_gap")
    controls = load_controls() if controls is None else controls
    check_inventory_controls(inventory, controls)
    lake = (lake if isinstance(lake, Lake) else Lake(lake)).require()
    if not {"sessions", "steps"} <= lake.tables():
        raise LakeError("no session metrics yet (run `agentwatch metrics` first)", lake.location)
    with lake.writer() as writer:
        con = writer.connection(memory_limit=memory_limit)
        risk = build_agent_risk(measure_dimensions(con, controls), inventory, high=high, now=now)
        events = evidence_events(con, gap_days(risk, gap=gap))
        findings = build_findings(risk, events, gap=gap, controls=controls)
        alerts = build_alerts(risk)
        writer.replace("agent_risk", risk)
        writer.replace("risk_findings", findings)
        writer.replace("risk_alerts", alerts)
        undeclared = tuple(sorted(set(risk.filter(~pl.col("is_declared"))["agent_id"])))
        entry = writer.commit("risk", extra={
            "agent_days": risk.height, "findings": findings.height, "alerts": alerts.height,
            "high": high, "gap": gap, "controls": sorted(controls), "declared_agents": len(inventory),
            "computed_at": now.isoformat(),
        })
    return RiskRun(risk["agent_id"].n_unique(), risk.height, undeclared, findings.height, alerts.height, entry)


def risk_is_current(lake: Lake) -> bool:
    """A risk run committed after the last change to what it reads (session metrics, findings)."""
    last_input, last_risk = 0, 0
    for entry in lake.entries():
        tables = {out["table"] for out in entry.get("outputs", ())}
        if entry.get("kind") == "risk":
            last_risk = entry["seq"]
        elif tables & {"sessions", "steps", "findings"} or any(t.endswith("_findings") for t in tables):
            last_input = entry["seq"]
    return last_risk > last_input


def measure_dimensions(con: duckdb.DuckDBPyConnection, controls: Mapping[str, Control]) -> pl.DataFrame:
    """The six measured dimensions per agent and day, with findings when `detect` has run."""
    pairs = [{"control": name, "dimension": dim} for name, c in controls.items() for dim in c.effects]
    con.register("risk_control_dimensions", pl.DataFrame(pairs, schema={"control": pl.String, "dimension": pl.String}))
    (has_findings,), = con.execute("select count(*) from duckdb_views() where view_name = 'findings'").fetchall()
    signals = (con.sql(_sql("risk_finding_signals")).pl() if has_findings
               else pl.DataFrame(schema=SIGNALS_SCHEMA))
    con.register("risk_finding_signals", signals)
    return con.sql(_sql("risk_dimensions"), params={"command_args": COMMAND_ARGS}).pl()


def evidence_events(con: duckdb.DuckDBPyConnection, gaps: pl.DataFrame) -> pl.DataFrame:
    """The tool calls behind each (agent, day, dimension) of `gaps` (only those days are read)."""
    con.register("risk_gap_days", gaps)
    params = {"command_args": COMMAND_ARGS, "outcome_approved": APPROVED}
    return con.sql(_sql("risk_evidence_events"), params=params).pl()


def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def build_agent_risk(
    measured: pl.DataFrame, inventory: Mapping[str, Agent], *, high: float, now: datetime
) -> pl.DataFrame:
    """Measured rows joined with the declared scores, value and controls; both matrices for each."""
    declared = declared_frame(inventory)
    risk = (measured.join(declared, on="agent_id", how="left")
            .with_columns(pl.col("is_declared").fill_null(False),
                          pl.col("controls_in_place").fill_null(pl.lit([], pl.List(pl.String))),
                          pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("computed_at")))
    risk = add_positions(add_positions(risk, "measured", high), "declared", high)
    return risk.sort("agent_id", "day")


def declared_frame(inventory: Mapping[str, Agent]) -> pl.DataFrame:
    """One row per inventory entry: declared scores, business value, controls in place."""
    schema = {"agent_id": pl.String, "is_declared": pl.Boolean, "business_value": pl.Int32,
              **{f"declared_{d}": pl.Int32 for d in DIMENSIONS}, "controls_in_place": pl.List(pl.String)}
    rows = [{"agent_id": a.agent_id, "is_declared": True, "business_value": a.business_value,
             **{f"declared_{d}": a.declared[d] for d in DIMENSIONS}, "controls_in_place": list(a.controls)}
            for a in inventory.values()]
    return pl.DataFrame(rows, schema=schema)


def check_inventory_controls(inventory: Mapping[str, Agent], controls: Mapping[str, Control]) -> None:
    """Every control an inventory entry says is in place must be a configured control."""
    problems = [f"{a.agent_id}: unknown control {c!r}" for a in inventory.values() for c in a.controls
                if c not in controls]
    if problems:
        raise ConfigError(f"{'; '.join(problems)} (known: {', '.join(controls)})", "inventory: controls")
