-- grain: one row per session this session spawned (its sub-agents).
with children as (
    select agent_id, session_id, started_at, count_events, count_tool_calls, count_spawned
    from sessions
    where parent_session_id = $session
),

final as (
    select * from children
    order by started_at
)

select * from final
