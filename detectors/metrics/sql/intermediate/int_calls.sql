-- grain: one row per tool call of a target session: its oversight, telemetry and repetition.
--   is_sensitive     the agent's inventory lists the tool under approval_required, or the call is
--                    destructive or a privilege change
--   has_approval     an approval event in the session carries the call's tool_call_id and comes
--                    before the call's result (before it ran); a sign-off logged after the action is
--                    no oversight. The first one's actor, key_id, signature and summary are kept
--                    for signature verification
--   approval_outcome sensitive calls only: the verified outcome of the call's approvals (approved,
--                    invalid_signature, unknown_key, summary_mismatch, after_the_fact; see
--                    detectors/metrics/verification.py), or missing when none carries its tool_call_id
--   has_result       a tool result in the session carries the call's tool_call_id
--   has_reasoning    a reasoning event shares the call's turn (since the last prompt or tool result)
--   has_token_usage  the call, or a model response or reasoning in its turn, reports tokens
--   repeat_count     calls in the session to the same tool with equivalent arguments (JSON text
--                    lowercased, whitespace removed), this one included; is_repeat_call: not the first
with calls as (
    select *, lower(regexp_replace(coalesce(tool_args, ''), '\s+', '', 'g')) as arguments_key
    from int_events
    where is_target and event_type = 'tool_call'
),

approvals as (
    select
        session_key,
        tool_call_id,
        min(step_index) as approval_step_index,
        arg_min(actor, step_index) as approval_actor,
        arg_min(approval_key_id, step_index) as approval_key_id,
        arg_min(approval_signature, step_index) as approval_signature,
        arg_min(approval_summary, step_index) as approval_summary
    from int_events
    where is_target and event_type = 'approval' and tool_call_id is not null
    group by session_key, tool_call_id
),

results as (
    select session_key, tool_call_id, true as has_result, min(step_index) as result_step_index
    from int_events
    where is_target and event_type = 'tool_result' and tool_call_id is not null
    group by session_key, tool_call_id
),

turns as (
    select
        session_key,
        turn_index,
        bool_or(event_type = 'reasoning') as turn_has_reasoning,
        bool_or(event_type in ('llm_response', 'reasoning', 'tool_call')
            and (input_tokens is not null or output_tokens is not null)) as turn_has_tokens
    from int_events
    where is_target
    group by session_key, turn_index
),

required as (
    select distinct agent_id, tool_name, true as is_approval_required
    from agent_approval_required
),

final as (
    select
        calls.session_key,
        calls.step_index,
        coalesce(required.is_approval_required, false) as is_approval_required,
        coalesce(required.is_approval_required, false) or calls.is_destructive or calls.is_privilege
            as is_sensitive,
        approvals.approval_step_index is not null
            and approvals.approval_step_index < coalesce(results.result_step_index, approvals.approval_step_index + 1)
            as has_approval,
        approvals.approval_step_index,
        approvals.approval_actor,
        approvals.approval_key_id,
        approvals.approval_signature,
        approvals.approval_summary,
        case when is_sensitive then coalesce(approval_outcomes.approval_outcome, $outcome_missing) end as approval_outcome,
        coalesce(results.has_result, false) as has_result,
        turns.turn_has_reasoning as has_reasoning,
        turns.turn_has_tokens as has_token_usage,
        count(*) over same_call as repeat_count,
        row_number() over (same_call order by calls.step_index) > 1 as is_repeat_call
    from calls
    left join required using (agent_id, tool_name)
    left join approvals using (session_key, tool_call_id)
    left join results using (session_key, tool_call_id)
    left join approval_outcomes using (agent_id, session_id, tool_call_id)
    left join turns using (session_key, turn_index)
    window same_call as (partition by calls.session_key, calls.tool_name, calls.arguments_key)
)

select * from final
