-- grain: one row per agent with a control record: its latest state (paused or resumed), and by whom.
with latest as (
    select *
    from control
    qualify row_number() over (partition by agent_id order by "at" desc) = 1
),

final as (
    select agent_id, state, "by", reason, alert_key, "at"
    from latest
    order by state = 'paused' desc, "at" desc
)

select * from final
