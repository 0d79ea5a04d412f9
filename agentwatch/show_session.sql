-- grain: one row: the session's metrics and (after `detect`) its scores and reasons.
with session as (
    select *
    from sessions
    where agent_id = $agent and session_id = $session
),

final as (
    select * from session
)

select * from final
