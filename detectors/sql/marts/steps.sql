-- grain: one row per event of a target session of this round (appended to metrics_steps, published
-- as the `steps` view, without the build's session_key): the staged event (raw attrs left behind),
-- its place in the session, words, entities, tool category, and what the intermediate models found.
-- resources: the entities a tool call names in its arguments (empty for other events).
with final as (
    select
        events.agent_id,
        events.session_id,
        events.session_key,
        events.session_day,
        events.event_id,
        events.seq,
        events.event_at,
        events.event_type,
        events.actor,
        events.tool_name,
        events.tool_call_id,
        events.tool_args,
        events.event_text,
        events.input_tokens,
        events.is_repeated_usage,
        events.output_tokens,
        events.status,
        events.flags,
        events.step_index,
        events.prompt_index,
        events.human_turn_index,
        events.turn_index,
        events.tokens,
        events.entities,
        case when events.event_type = 'tool_call' then events.entities else [] end as resources,
        events.tool_category,
        events.is_read,
        events.is_write,
        events.is_network,
        events.is_spawn,
        events.is_destructive,
        events.is_privilege,
        events.is_sink,
        drift.goal_relevance,
        drift.goal_drift,
        coalesce(flow.untrusted_entities, []) as untrusted_entities,
        flow.has_untrusted_out_of_scope,
        calls.is_approval_required,
        calls.is_sensitive,
        calls.has_approval,
        calls.approval_step_index,
        calls.approval_actor,
        calls.approval_key_id,
        calls.approval_signature,
        calls.approval_summary,
        calls.approval_outcome,
        calls.has_result,
        calls.has_reasoning,
        calls.has_token_usage,
        calls.repeat_count,
        calls.is_repeat_call
    from int_events as events
    left join int_step_drift as drift using (session_key, step_index)
    left join int_entity_flow as flow using (session_key, step_index)
    left join int_calls as calls using (session_key, step_index)
    where events.is_target
)

select * from final
