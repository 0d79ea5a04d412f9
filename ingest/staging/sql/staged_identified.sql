-- grain: one row per staged event (view `staged_identified`) with the session and agent the batch and the
-- lake reconcile (table `identity_fixes`), each change flagged so nothing is adjusted silently.
create view staged_identified as
with final as (
    select
        staged_raw.* replace (
            coalesce(identity_fixes.session_id, staged_raw.session_id) as session_id,
            coalesce(identity_fixes.agent_id, staged_raw.agent_id) as agent_id,
            list_concat(
                staged_raw.flags,
                case when identity_fixes.session_id is not null then ['session_reconciled'] else [] end,
                case when identity_fixes.agent_id is not null then ['agent_reconciled'] else [] end
            ) as flags
        )
    from staged_raw
    left join identity_fixes
        on identity_fixes.trace_id = staged_raw.trace_id and identity_fixes.span_id = staged_raw.span_id
)

select * from final
