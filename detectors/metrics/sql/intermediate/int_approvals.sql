-- grain: one row per approval event (with a tool_call_id) of a metrics target session, with what
-- verifying it needs: the signed fields, the call it names and whether it came after that call ran.
--   call_tool_name, call_tool_args  the session's first tool_call carrying the approval's tool_call_id
--                                   (null when the session has no such call)
--   is_after_result                 the session's first tool_result for that call comes before the
--                                   approval (the action had already run when it was signed off)
-- Order within a session is the metric models' order (seq, then time, then event_id), so positions
-- here agree with `step_index` in int_events.
with linked as (
    select stg_events.* exclude (permission_mode)
    from stg_events
    join metrics_targets using (agent_id, session_id)
    where stg_events.tool_call_id is not null
        and stg_events.event_type in ('approval', 'tool_call', 'tool_result')
),

ordered as (
    select
        *,
        row_number() over (partition by agent_id, session_id order by seq, event_at, event_id) as position
    from linked
),

calls as (
    select
        agent_id,
        session_id,
        tool_call_id,
        first(tool_name order by position) filter (where event_type = 'tool_call') as call_tool_name,
        first(tool_args order by position) filter (where event_type = 'tool_call') as call_tool_args,
        bool_or(event_type = 'tool_call') as has_call,
        min(position) filter (where event_type = 'tool_result') as first_result_position
    from ordered
    group by agent_id, session_id, tool_call_id
),

final as (
    select
        approvals.agent_id,
        approvals.session_id,
        approvals.tool_call_id,
        approvals.event_id,
        approvals.position,
        approvals.approval_key_id as key_id,
        approvals.approval_signature as signature,
        approvals.approval_summary as summary,
        calls.call_tool_name,
        calls.call_tool_args,
        coalesce(calls.has_call, false) as has_call,
        coalesce(approvals.position > calls.first_result_position, false) as is_after_result
    from ordered as approvals
    left join calls using (agent_id, session_id, tool_call_id)
    where approvals.event_type = 'approval'
)

select * from final
order by agent_id, session_id, position
