-- grain: one row per event of one session, in session order: what the humans, the model and the
-- tools said and did.
with session_events as (
    select
        seq,
        ts,
        event_type,
        actor,
        tool_name,
        tool_call_id,
        status,
        text,
        tool_args,
        flags,
        input_tokens,
        output_tokens,
        model,
        parent_session_id,
        event_id
    from events
    where agent_id = $agent and session_id = $session
),

final as (
    select * from session_events
    order by seq, ts, event_id
)

select * from final
