-- grain: one row per finding about one session (rules, anomaly, verification, ...).
with session_findings as (
    select source, rule_id, level, title, ts, detail, evidence_event_ids, finding_id
    from findings
    where agent_id = $agent and session_id = $session
),

final as (
    select * from session_findings
    order by ts, rule_id
)

select * from final
