-- grain: one row per playbook action and outcome of its last attempt per alert.
with last_attempt as (
    select *
    from escalations
    qualify row_number() over (partition by alert_key, playbook_id, action_id order by attempt desc, "at" desc) = 1
),

final as (
    select playbook_id, action_id, action_kind, outcome, count(*) as alerts
    from last_attempt
    group by all
    order by playbook_id, action_id, outcome
)

select * from final
