-- grain: one row per event of a target session of this round (appended to metrics_steps, published
-- as the `steps` view, without the build's session_key): the staged event (raw attrs left behind),
-- its place in the session, words, entities, tool category, and what the intermediate models found.
-- resources: the entities a tool call names in its arguments (empty for other events).
with final as (
    select
        int_events.agent_id,
        int_events.session_id,
        int_events.session_key,
        int_events.session_day,
        int_events.event_id,
        int_events.seq,
        int_events.event_at,
        int_events.event_type,
        int_events.actor,
        int_events.tool_name,
        int_events.tool_call_id,
        int_events.tool_args,
        int_events.event_text,
        int_events.input_tokens,
        int_events.is_repeated_usage,
        int_events.output_tokens,
        int_events.status,
        int_events.flags,
        int_events.step_index,
        int_events.prompt_index,
        int_events.human_turn_index,
        int_events.turn_index,
        int_events.tokens,
        int_events.entities,
        case when int_events.event_type = 'tool_call' then int_events.entities else [] end as resources,
        int_events.tool_category,
        int_events.is_read,
        int_events.is_write,
        int_events.is_network,
        int_events.is_spawn,
        int_events.is_destructive,
        int_events.is_privilege,
        int_events.is_sink,
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
    from int_events
    left join int_step_drift as drift using (session_key, step_index)
    left join int_entity_flow as flow using (session_key, step_index)
    left join int_calls as calls using (session_key, step_index)
    where int_events.is_target
)

select * from final
