"""Rule findings: build the detector tables over `steps`/`sessions` and run every compiled rule.

`prepare_detect_tables` materializes `detect_steps` (steps + the cross-agent taxonomy),
`fleet_peers` and `detect_sessions` (sessions + what the detectors derive per session) from the
SQL in `detectors/detect/sql/`; `find_rule_hits` runs each rule's query over them and returns one
row per (rule, session) hit with its evidence, shaped like the `findings` contract.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from agentwatch.detectors.detect.rules import CompiledRule, Rule, compile_rule
from agentwatch.detectors.metrics.models import PEER_MIN_SESSIONS, PEER_RARE_SHARE, create_staging
from agentwatch.detectors.metrics.tool_categories import taxonomy_params
from agentwatch.errors import ConfigError

DETECT_SQL_DIR = Path(__file__).parent / "sql"
DETECT_MODELS = ("detect_steps", "fleet_peers", "detect_sessions")
_PARAMETER = re.compile(r"\$([a-z_]+)")
FINDINGS_SCHEMA = pa.schema([
    ("finding_id", pa.string()), ("source", pa.string()), ("rule_id", pa.string()), ("title", pa.string()),
    ("level", pa.string()), ("agent_id", pa.string()), ("session_id", pa.string()),
    ("ts", pa.timestamp("us", tz="UTC")), ("evidence_event_ids", pa.list_(pa.string())),
    ("detail", pa.string()), ("tags", pa.list_(pa.string())),
])


def read_detect_model(name: str) -> str:
    """The SQL text of one detector model."""
    return (DETECT_SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def prepare_detect_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables the rules and the anomaly model read (needs views `steps`, `sessions`, `events`)."""
    params = {**taxonomy_params(), "peer_rare_share": PEER_RARE_SHARE, "peer_min_sessions": PEER_MIN_SESSIONS}
    create_staging(con)  # detect_steps reads the events' permission mode from staging
    for model in DETECT_MODELS:
        sql = read_detect_model(model)
        con.execute(f"create or replace table {model} as {sql}", _used(params, sql))


def find_rule_hits(con: duckdb.DuckDBPyConnection, rules: Sequence[Rule]) -> pa.Table:
    """One row per (rule, session) that fires, with evidence ids and a short detail (findings columns)."""
    con.execute("create or replace temp table rule_hits (rule_id varchar, agent_id varchar, session_id varchar, "
                "evidence_event_ids varchar[], ts timestamptz)")
    for compiled in (compile_rule(r) for r in rules):
        _insert_hits(con, compiled)
    meta = pa.table({
        "rule_id": [r.id for r in rules], "title": [r.title for r in rules], "level": [r.level for r in rules],
        "tags": pa.array([list(r.tags) for r in rules], pa.list_(pa.string())),
    })
    con.register("rule_meta", meta)
    rows = con.sql(read_detect_model("rule_findings")).to_arrow_table()
    con.unregister("rule_meta")
    return with_finding_ids(rows)


def _insert_hits(con: duckdb.DuckDBPyConnection, compiled: CompiledRule) -> None:
    try:
        con.execute(f"insert into rule_hits select ?, * from ({compiled.sql})", [compiled.rule.id, *compiled.params])
    except duckdb.Error as exc:
        raise ConfigError(f"rule {compiled.rule.id} cannot run: {exc}", compiled.rule.where) from exc


def with_finding_ids(rows: pa.Table) -> pa.Table:
    """Findings with `finding_id` = hash of source, rule, agent, session and evidence (stable across runs)."""
    ids = [
        finding_id(s, r, a, x, e)
        for s, r, a, x, e in zip(*(rows[c].to_pylist() for c in
                                   ("source", "rule_id", "agent_id", "session_id", "evidence_event_ids")), strict=True)
    ]
    table = rows.append_column("finding_id", pa.array(ids, pa.string()))
    return table.select(FINDINGS_SCHEMA.names).cast(FINDINGS_SCHEMA)


def finding_id(source: str, rule_id: str, agent_id: str, session_id: str | None, evidence: list[str] | None) -> str:
    """A stable id for one finding."""
    body = "\x1f".join([source, rule_id, agent_id, session_id or "", *(evidence or [])])
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def _used(params: Mapping[str, object], sql: str) -> dict[str, object]:
    # DuckDB refuses named parameters a statement does not use; comments may name them too.
    code = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return {name: params[name] for name in set(_PARAMETER.findall(code))}
