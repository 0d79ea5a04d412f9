-- title: Sink calls steered by tool output (prompt injection)
-- grain: one row per sink tool call whose arguments carry entities first seen in a tool result.
with steered as (
    select agent_id, session_id, step_index, event_at, tool_name, untrusted_entities, tool_args
    from steps
    where is_sink and len(untrusted_entities) > 0
),

final as (
    select * from steered
    order by event_at desc
)

select * from final
