-- grain: one row per (source, agent, session, tool call id) of a tool result in this batch that names
-- no tool, with the name its call gave (the call may be in this batch or in the lake). Claude Code
-- writes a result in a later record than its call, naming only the call's id; the name belongs on
-- the result too. Inputs: views `staged_identified` (this batch) and `lake_events`.
create table tool_name_fixes as
with results as (
    select distinct source_format, agent_id, session_id, tool_call_id
    from staged_identified
    where event_type = 'tool_result' and tool_name is null and tool_call_id is not null
),

calls as (
    select source_format, agent_id, session_id, tool_call_id, tool_name
    from staged_identified
    where event_type in ('tool_call', 'agent_spawn') and tool_name is not null and tool_call_id is not null
    union all
    select source_format, agent_id, session_id, tool_call_id, tool_name
    from lake_events
    semi join results using (source_format, agent_id, session_id, tool_call_id)
    where event_type in ('tool_call', 'agent_spawn') and tool_name is not null
),

final as (
    select results.source_format, results.agent_id, results.session_id, results.tool_call_id,
           min(calls.tool_name) as tool_name
    from results
    join calls using (source_format, agent_id, session_id, tool_call_id)
    group by all
)

select * from final
