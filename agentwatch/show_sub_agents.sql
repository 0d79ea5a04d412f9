-- grain: one row per session this session spawned (its sub-agents), in the order they started; the
-- agent's own side chains (housekeeping: Claude Code's compaction and warmup) are listed too, marked.
with children as (
    select
        agent_id,
        session_id,
        min(ts) as started_at,
        count(*) as count_events,
        count(*) filter (where event_type = 'tool_call') as count_tool_calls,
        max(try(json_extract_string(attrs, '$.housekeeping'))) as housekeeping
    from events
    where parent_session_id = $session and agent_id is not null
    group by agent_id, session_id
),

final as (
    select * from children
    order by housekeeping nulls first, started_at, agent_id, session_id
)

select * from final
