-- grain: one row per agent and day: the agent's measured and declared positions on both models.
with positions as (
    select *
    from agent_risk
),

final as (
    select * from positions
    order by agent_id, day
)

select * from final
