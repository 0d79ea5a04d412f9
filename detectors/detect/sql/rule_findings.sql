-- grain: one row per (rule, session) hit in `rule_hits`: the hit with its rule's title, level and
-- tags, and a short detail naming the evidence calls (tool and the start of its arguments, or the
-- start of the text), so a reader sees what happened without opening the session.
with evidence as (
    select hits.rule_id, hits.agent_id, hits.session_id, e.ordinal, e.event_id
    from rule_hits as hits, unnest(hits.evidence_event_ids) with ordinality as e(event_id, ordinal)
),

described as (
    select
        evidence.rule_id,
        evidence.agent_id,
        evidence.session_id,
        string_agg(
            coalesce(steps.call_tool_name || ': ', steps.event_type || ': ')
                || left(regexp_replace(coalesce(steps.tool_args, steps.event_text, ''), '\s+', ' ', 'g'), 120),
            ' → ' order by evidence.ordinal
        ) filter (where evidence.ordinal <= 3) as detail
    from evidence
    join detect_steps as steps using (agent_id, session_id, event_id)
    group by all
),

final as (
    select
        'rule' as source,
        hits.rule_id,
        meta.title,
        meta.level,
        hits.agent_id,
        hits.session_id,
        hits.ts,
        hits.evidence_event_ids,
        coalesce(described.detail, '') as detail,
        meta.tags
    from rule_hits as hits
    join rule_meta as meta using (rule_id)
    left join described using (rule_id, agent_id, session_id)
)

select * from final
