-- grain: one row per event of one session, in session order: who said or did what, with which tool.
-- child_session_id: the session a spawn started, named by the spawn itself or, when only its result
-- knows it (Claude Code: the Task result's agent id), by the result of the same call.
with session_events as (
    select
        event_id,
        seq,
        ts,
        event_type,
        actor,
        model,
        tool_name,
        tool_call_id,
        tool_args,
        text,
        status,
        input_tokens,
        output_tokens,
        flags,
        try(json_extract_string(attrs, '$.child_session_id')) as child_session_id,
        try(json_extract_string(attrs, '$.summary')) as approval_summary
    from events
    where agent_id = $agent and session_id = $session
),

children_by_call as (
    select tool_call_id, min(child_session_id) as call_child_session_id
    from session_events
    where event_type = 'tool_result' and tool_call_id is not null and child_session_id is not null
    group by tool_call_id
),

final as (
    select
        session_events.* exclude (child_session_id),
        case when event_type = 'agent_spawn'
            then coalesce(session_events.child_session_id, children_by_call.call_child_session_id)
            else session_events.child_session_id
        end as child_session_id
    from session_events
    left join children_by_call using (tool_call_id)
    order by seq, ts, event_id
)

select * from final
