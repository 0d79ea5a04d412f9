-- grain: one row per staged event (view `staged`): `staged_identified` with the tool name of a
-- result taken from its call (table `tool_name_fixes`), flagged `tool_name_from_call`.
create view staged as
with final as (
    select
        staged_identified.* replace (
            coalesce(staged_identified.tool_name, tool_name_fixes.tool_name) as tool_name,
            case when tool_name_fixes.tool_name is not null and staged_identified.tool_name is null
                then list_append(staged_identified.flags, 'tool_name_from_call')
                else staged_identified.flags end as flags
        )
    from staged_identified
    left join tool_name_fixes
        on tool_name_fixes.source_format = staged_identified.source_format
        and tool_name_fixes.agent_id = staged_identified.agent_id
        and tool_name_fixes.session_id = staged_identified.session_id
        and tool_name_fixes.tool_call_id = staged_identified.tool_call_id
        and staged_identified.event_type = 'tool_result'
)

select * from final
