-- title: Sessions touching resources outside the agent's declared scope
-- grain: one row per session with at least one out-of-scope resource.
with outside as (
    select agent_id, session_id, started_at, count_out_of_scope_resources, out_of_scope_resources
    from sessions
    where count_out_of_scope_resources > 0
),

final as (
    select * from outside
    order by count_out_of_scope_resources desc, started_at desc
)

select * from final
