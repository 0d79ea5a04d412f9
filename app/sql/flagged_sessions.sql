-- grain: one row per flagged session (the queue before `detect` has written alerts), riskiest first.
with flagged as (
    select agent_id, session_id, risk_score, anomaly_score, started_at, count_events
    from sessions
    where flagged
),

final as (
    select * from flagged
    order by risk_score desc nulls last, started_at desc
)

select * from final
