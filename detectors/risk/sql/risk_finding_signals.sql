-- grain: one row per agent, UTC day and dimension against which a rule or anomaly finding counts.
-- A finding tagged with a control's name (`verification`, `guardrails`, ..., or the rule catalog's
-- namespaced `control.verification`) says that control's
-- boundary was crossed; it counts against the dimensions that control protects
-- (`risk_control_dimensions`, from the controls configuration). Only high and critical findings
-- count: a lower level is a hint, not a breach. The risk model's own findings never feed back.
with finding_tags as (
    select
        agent_id,
        cast(timezone('UTC', ts) as date) as day,
        finding_id,
        unnest(tags) as tag
    from findings
    where source <> 'risk' and level in ('high', 'critical')
),

breaches as (
    select agent_id, day, finding_id, regexp_replace(tag, '^control\.', '') as tag
    from finding_tags
),

final as (
    select
        breaches.agent_id,
        breaches.day,
        controls.dimension,
        count(distinct breaches.finding_id) as count_findings,
        list(distinct breaches.finding_id order by breaches.finding_id)[1:5] as finding_ids
    from breaches
    join risk_control_dimensions as controls on controls.control = breaches.tag
    group by all
)

select * from final
