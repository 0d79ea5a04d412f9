-- grain: one row per (agent, session) an analyst closed as a false positive: the session of an alert
-- whose latest state (the `alerts` view joins it) is closed with close_reason false_positive. These
-- are the anomaly models' labelled normal examples (anomaly.py).
with closed as (
    select agent_id, session_id, status_by, status_note, status_at
    from alerts
    where status = 'closed' and close_reason = 'false_positive' and agent_id is not null and session_id is not null
),

final as (
    select agent_id, session_id, arg_max(status_by, status_at) as "by", arg_max(status_note, status_at) as note,
        max(status_at) as "at"
    from closed
    group by agent_id, session_id
)

select * from final
