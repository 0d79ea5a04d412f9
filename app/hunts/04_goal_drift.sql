-- title: Sessions that drifted furthest from what the humans asked
-- grain: one row per session, most drifted first.
with drift as (
    select agent_id, session_id, started_at, goal_drift_level, goal_drift_trend, count_drift_steps
    from sessions
    where goal_drift_level is not null
),

final as (
    select * from drift
    order by goal_drift_level desc
    limit 50
)

select * from final
