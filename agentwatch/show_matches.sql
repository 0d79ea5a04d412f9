-- grain: one row per agent that logged a session with this id (ids are unique per agent, not across agents).
with matches as (
    select
        agent_id,
        session_id,
        any_value(parent_session_id) as parent_session_id,
        min(ts) as started_at,
        max(ts) as ended_at,
        count(*) as count_events
    from events
    where session_id = $session
    group by agent_id, session_id
),

final as (
    select * from matches
    order by agent_id
)

select * from final
