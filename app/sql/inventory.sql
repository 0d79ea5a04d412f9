-- grain: one row per agent of the inventory: what its owner declared.
with declared as (
    select * exclude (allowed_tools, approval_required)
    from agents
),

final as (
    select * from declared
    order by agent_id
)

select * from final
