-- grain: one row per agent: its most recent day of `agent_risk`.
with latest as (
    select *
    from agent_risk
    qualify row_number() over (partition by agent_id order by day desc) = 1
),

final as (
    select * from latest
    order by agent_id
)

select * from final
