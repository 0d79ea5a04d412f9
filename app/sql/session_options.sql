-- grain: one row per session, busiest first (before `detect` has scored them).
with ranked as (
    select agent_id, session_id, started_at, count_events, null::double as risk_score
    from sessions
    order by count_events desc, started_at desc
    limit $limit
),

final as (
    select * from ranked
)

select * from final
