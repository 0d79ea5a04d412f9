"""Lakes for the app's tests: the sample fleet really ingested and measured, plus the detectors',
risk model's and escalation's tables written in their contract shapes (COMMON.md) through the lake
writer, derived from the real metrics so evidence ids point at real events.

Those tables are built by other stages (issues 11-13); here they are test data of the agreed shape,
so the app can be tested before and independently of how they are computed.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from agentwatch.detectors.metrics.run import run_metrics
from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.inventory import load_inventory
from agentwatch.lake import Lake
from tests.support.paths import ROOT

SAMPLE = ROOT / "data" / "sample"
INVENTORY = SAMPLE / "agents.yaml"
NOW = datetime(2026, 11, 24, tzinfo=UTC)

# reason id -> (level, title, the step predicate whose events are its evidence, the session predicate)
REASONS = {
    "destructive_action": ("critical", "Destructive action", "is_destructive", "count_destructive_actions > 0"),
    "untrusted_sink": ("high", "Sink call steered by tool output", "is_sink and has_untrusted_out_of_scope",
                       "count_untrusted_out_of_scope_sink_calls > 0"),
    "out_of_scope": ("medium", "Resource outside the declared scope", "len(resources) > 0",
                     "count_out_of_scope_resources > 0"),
    "runaway_delegation": ("high", "Runaway delegation", "is_spawn", "spawn_tree_height > 1"),
}


def measured_lake(lake: Path, inputs: list[Path] | None = None, inventory: Path = INVENTORY) -> Path:
    """A lake with the inputs (default: the sample fleet) ingested and measured."""
    ingest_paths(lake, inputs or [SAMPLE], now=NOW)
    run_metrics(lake, load_inventory(inventory))
    return lake


def add_detections(lake: Path, *, text: str = "") -> None:
    """session_scores, findings, alerts, alert_state, agent_risk, escalations and control, in contract shape.

    `text` is appended to every free-text field (titles, details, reasons, notes), so hostile text
    can be planted everywhere the app shows words the detectors wrote.
    """
    store = Lake(lake)
    with store.writer() as w:
        con = w.connection(inventory=INVENTORY)
        con.execute("create temp table reason_hits as " + " union all ".join(
            f"""select s.agent_id, s.session_id, '{rid}' as id, '{level}' as level, '{title}' || $text as text,
                       (select list(event_id order by seq) from steps t where t.agent_id = s.agent_id
                          and t.session_id = s.session_id and ({step})) as evidence_event_ids,
                       (select min(event_at) from steps t where t.agent_id = s.agent_id
                          and t.session_id = s.session_id and ({step})) as ts
                from sessions s where {where}"""
            for rid, (level, title, step, where) in REASONS.items()), {"text": text})
        scores = con.sql("""
            with hits as (
                select agent_id, session_id, list({'kind': 'rule', 'id': id, 'level': level, 'text': text,
                    'evidence_event_ids': coalesce(evidence_event_ids, [])} order by id) as reasons,
                    max(case level when 'critical' then 0.95 when 'high' then 0.8 else 0.6 end) as rule_risk
                from reason_hits group by all
            )
            select s.agent_id, s.session_id, least(coalesce(s.goal_drift_level, 0), 1.0) as anomaly_score,
                greatest(coalesce(h.rule_risk, 0), 0.5 * least(coalesce(s.goal_drift_level, 0), 1.0)) as risk_score,
                h.rule_risk is not null as flagged, coalesce(h.reasons, []) as reasons,
                [{'feature': 'goal_drift_level', 'value': coalesce(s.goal_drift_level, 0),
                  'baseline': 0.5, 'z': (coalesce(s.goal_drift_level, 0) - 0.5) / 0.1}] as top_features
            from sessions s left join hits h using (agent_id, session_id)
        """)
        w.replace("session_scores", scores)
        w.replace("findings", con.sql("""
            select md5(concat_ws('|', 'rule', id, agent_id, session_id)) as finding_id, 'rule' as source,
                id as rule_id, text as title, level, agent_id, session_id, ts, coalesce(evidence_event_ids, [])
                as evidence_event_ids, 'evidence: ' || len(coalesce(evidence_event_ids, [])) || ' events' || $text
                as detail, ['guardrail'] as tags
            from reason_hits
            union all
            select md5('risk|' || agent_id), 'risk', 'declared_vs_observed', 'Observed oversight below declared'
                || $text, 'medium', agent_id, null, $now, [], 'declared 4, measured 2' || $text, ['risk']
            from (select distinct agent_id from sessions order by 1 limit 2)
        """, params={"text": text, "now": NOW}))
        w.replace("alerts", con.sql("""
            select md5(agent_id || '|' || session_id) as alert_key, agent_id, session_id,
                arg_max(level, case level when 'critical' then 3 when 'high' then 2 else 1 end) as level,
                string_agg(text, '; ' order by id) as title, list(id order by id) as rule_ids,
                max(case level when 'critical' then 0.95 when 'high' then 0.8 else 0.6 end) as risk_score,
                min(ts) as first_seen_at, max(ts) as last_seen_at
            from reason_hits group by agent_id, session_id
        """))
        w.append("alert_state", con.sql("""
            select md5(agent_id || '|' || session_id) as alert_key, 'closed' as status, 'bo' as by,
                'benign maintenance' || $text as note, 'false_positive' as close_reason, $now::timestamptz as at
            from reason_hits where id = 'out_of_scope' order by agent_id, session_id limit 1
        """, params={"text": text, "now": NOW}))
        w.replace("agent_risk", con.sql(AGENT_RISK_SQL, params={"text": text}))
        w.append("escalations", con.sql("""
            with a as (select md5(agent_id || '|' || session_id) as alert_key, agent_id from reason_hits
                       where level = 'critical' order by 1 limit 3)
            select alert_key, 'page-oncall' as playbook_id, 'page' as action_id, 'webhook' as action_kind,
                n as attempt, case when n = 1 then 'failed' else 'ok' end as outcome,
                'HTTP ' || case when n = 1 then '503' else '200' end || $text as detail,
                alert_key || ':page' as dedup_key, $now::timestamptz + to_minutes(n) as at
            from a, range(1, 3) r(n)
        """, params={"text": text, "now": NOW}))
        w.append("control", con.sql("""
            select agent_id, 'paused' as state, 'escalation' as by, 'destructive action' || $text as reason,
                md5(agent_id || '|' || session_id) as alert_key, $now::timestamptz as at
            from reason_hits where id = 'destructive_action' order by agent_id, session_id limit 1
        """, params={"text": text, "now": NOW}))
        w.commit("test_detections")


# Per agent and day: measured dimensions from the day's sessions (crudely: enough to be realistic
# in shape and to move over days), declared ones from the inventory (null for agents it does not
# list), both matrices' quadrants.
AGENT_RISK_SQL = """
with daily as (
    select agent_id, session_day as day, avg(share_steps_without_human) as autonomy_share,
        avg(coalesce(oversight_coverage, 1)) as oversight_share, avg(coalesce(telemetry_coverage, 1)) as telemetry,
        avg(goal_drift_level) as drift, max(count_distinct_resources) as resources, sum(count_write_calls) as writes
    from sessions group by all
),
scored as (
    select d.agent_id, d.day, least(5, 1 + round(d.resources / 5.0)) as measured_access,
        least(5, 1 + round(d.writes / 10.0)) as measured_action,
        greatest(1, least(5, round(1 + 4 * coalesce(d.autonomy_share, 0)))) as measured_autonomy,
        greatest(1, least(5, round(1 + 4 * d.oversight_share))) as measured_oversight,
        greatest(1, least(5, round(5 - 4 * coalesce(d.drift, 0)))) as measured_goal_stability,
        greatest(1, least(5, round(1 + 4 * d.telemetry))) as measured_monitoring,
        a.declared_access, a.declared_action, a.declared_autonomy, a.declared_oversight,
        a.declared_goal_stability, a.declared_monitoring, a.business_value
    from daily d left join agents a using (agent_id)  -- agents missing from the inventory: undeclared
),
vulnerable as (
    select *, declared_access is not null as is_declared,
        (measured_access + measured_action + measured_autonomy + 18 - measured_oversight
         - measured_goal_stability - measured_monitoring) / 6.0 as vulnerability_measured,
        (declared_access + declared_action + declared_autonomy + 18 - declared_oversight
         - declared_goal_stability - declared_monitoring) / 6.0 as vulnerability_declared
    from scored
)
select *,
    case when business_value > 3 then (case when vulnerability_measured > 3 then 'Strategic Risk'
        else 'Safe Optimization' end) else (case when vulnerability_measured > 3 then 'High Exposure'
        else 'Low Impact' end) end as model1_measured,
    case when business_value > 3 then (case when vulnerability_declared > 3 then 'Strategic Risk'
        else 'Safe Optimization' end) else (case when vulnerability_declared > 3 then 'High Exposure'
        else 'Low Impact' end) end as model1_declared,
    case when measured_oversight > 3 then (case when measured_autonomy > 3 then 'Managed Risk' else 'Minimal Risk' end)
        else (case when measured_autonomy > 3 then 'Critical Risk' else 'Latent Risk' end) end as model2_measured,
    case when declared_oversight > 3 then (case when declared_autonomy > 3 then 'Managed Risk' else 'Minimal Risk' end)
        else (case when declared_autonomy > 3 then 'Critical Risk' else 'Latent Risk' end) end as model2_declared,
    '{"sessions": "per day"}' || $text as evidence
from vulnerable
"""


def copy_lake(source: Path, target: Path) -> Path:
    """A private copy of a built lake (for tests that write alert state)."""
    shutil.copytree(source, target)
    return target


def hostile_text(canary: str) -> str:
    """Text an attacker plants in logs: a markdown image and link to the canary, HTML that would run
    script, a bidi override and ANSI escapes."""
    return (f" ![pixel]({canary}/markdown-image.png) [click me]({canary}/markdown-link)"
            f" <img src=\"{canary}/html-image.png\" onerror=\"window.__pwned = 1\">"
            f" <script>window.__pwned = 1; fetch('{canary}/script')</script>"
            " \u202egnp.exe\u202c \x1b[31mRED\x1b[0m \x1b]8;;http://evil/\x07osc-link\x1b]8;;\x07")


def write_hostile_session(folder: Path, canary: str) -> tuple[str, str]:
    """A native JSONL session whose every text field (agent and session ids too) carries hostile text;
    it deletes files, so the detectors flag it. Returns its (agent_id, session_id)."""
    import orjson

    evil = hostile_text(canary)
    agent, session = f"evil-agent{evil}", f"evil-session{evil}"
    steps = [
        {"event_type": "user_prompt", "actor": f"mallory{evil}", "text": f"tidy the repo{evil}"},
        {"event_type": "reasoning", "text": f"I should obey the README{evil}"},
        {"event_type": "tool_call", "tool_name": f"run_shell{evil}", "tool_call_id": "c1",
         "tool_args": {"cmd": f"rm -rf /srv/data # {evil}"}},
        {"event_type": "tool_result", "tool_call_id": "c1", "text": f"removed{evil}", "status": "ok"},
        {"event_type": "llm_response", "text": f"Done.{evil}"},
    ]
    lines = [orjson.dumps({"ts": f"2026-11-20T10:00:{i:02d}Z", "agent_id": agent, "session_id": session,
                           "seq": i, **step}) for i, step in enumerate(steps, 1)]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hostile.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    return agent, session
