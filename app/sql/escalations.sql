-- grain: one row per escalation attempt, newest first.
with attempts as (
    select "at", alert_key, playbook_id, action_id, action_kind, attempt, outcome, detail
    from escalations
),

final as (
    select * from attempts
    order by "at" desc, alert_key, action_id, attempt desc
)

select * from final
