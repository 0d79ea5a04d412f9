-- grain: one row per session, riskiest first.
with ranked as (
    select agent_id, session_id, started_at, count_events, risk_score
    from sessions
    order by risk_score desc nulls last, started_at desc
    limit $limit
),

final as (
    select * from ranked
)

select * from final
