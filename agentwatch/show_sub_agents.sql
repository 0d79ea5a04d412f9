-- grain: one row per session this session spawned (its sub-agents), in the order they started.
with children as (
    select
        agent_id,
        session_id,
        min(ts) as started_at,
        count(*) as count_events,
        count(*) filter (where event_type = 'tool_call') as count_tool_calls
    from events
    where parent_session_id = $session and agent_id is not null
    group by agent_id, session_id
),

final as (
    select * from children
    order by started_at, agent_id, session_id
)

select * from final
