-- grain: one row per (agent, pattern) an analyst closed as a false positive: each rule id of an
-- alert whose latest state (the `alerts` view joins it) is closed with close_reason false_positive.
with closed as (
    select agent_id, rule_ids, status_by, status_note, status_at
    from alerts
    where status = 'closed' and close_reason = 'false_positive' and agent_id is not null
),

final as (
    select agent_id, pattern, arg_max(status_by, status_at) as "by", arg_max(status_note, status_at) as note,
        max(status_at) as "at"
    from (select *, unnest(rule_ids) as pattern from closed)
    group by agent_id, pattern
)

select * from final
