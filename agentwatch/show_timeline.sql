-- grain: one row per event of one session, in session order: who said or did what, with which tool.
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

final as (
    select * from session_events
    order by seq, ts, event_id
)

select * from final
