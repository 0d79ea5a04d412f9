-- grain: one row per sink tool call of a target session with at least one untrusted argument entity.
-- An entity in a sink call's arguments is untrusted when a tool result before the call named it and
-- no human prompt (user or system) before the call did: the footprint of text from a tool steering
-- the agent (prompt injection). An IBAN the user typed stays trusted even if a result repeats it.
with mentions as (
    select session_key, step_index, event_type, unnest(entities) as entity
    from int_events
    where is_target
        and event_type in ('user_prompt', 'system_prompt', 'tool_result')
        and len(entities) > 0
),

first_seen as (
    select
        session_key,
        entity.kind as kind,
        entity.value as value,
        min(step_index) filter (where event_type in ('user_prompt', 'system_prompt')) as first_trusted_step,
        min(step_index) filter (where event_type = 'tool_result') as first_result_step
    from mentions
    group by session_key, kind, value
),

sink_arguments as (
    select agent_id, session_key, step_index, entity.kind as kind, entity.value as value
    from (
        select agent_id, session_key, step_index, unnest(entities) as entity
        from int_events
        where is_target and is_sink and len(entities) > 0
    )
),

untrusted as (
    select sink_arguments.*
    from sink_arguments
    join first_seen using (session_key, kind, value)
    where first_seen.first_result_step < sink_arguments.step_index
        and coalesce(first_seen.first_trusted_step > sink_arguments.step_index, true)
),

judged as (
    select
        untrusted.agent_id,
        untrusted.session_key,
        untrusted.step_index,
        untrusted.kind,
        untrusted.value,
        list_contains($scoped_kinds, untrusted.kind)
            and not (
                bool_or(coalesce(regexp_full_match(untrusted.value, agent_scope.pattern_regex), false))
                and not any_value(is_dot_dot_path(untrusted.value))
            )
            as is_out_of_scope
    from untrusted
    left join agent_scope using (agent_id, kind)
    group by untrusted.agent_id, untrusted.session_key, untrusted.step_index, untrusted.kind, untrusted.value
),

final as (
    select
        session_key,
        step_index,
        list({'kind': kind, 'value': value} order by kind, value) as untrusted_entities,
        case when any_value(agent_id) in (select agent_id from inventory_agents) then bool_or(is_out_of_scope) end
            as has_untrusted_out_of_scope
    from judged
    group by session_key, step_index
)

select * from final
