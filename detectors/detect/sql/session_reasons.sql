-- grain: one row per (reason, evidence event) of one session (a reason without evidence: one row
-- with null event columns): what `show SESSION` and the app print under "why flagged".
with reasons as (
    select sessions.agent_id, sessions.session_id, r.ordinal, r.reason
    from sessions, unnest(sessions.reasons) with ordinality as r(reason, ordinal)
    where sessions.session_id = $session_id and ($agent_id is null or sessions.agent_id = $agent_id)
),

evidence as (
    select reasons.*, e.event_id, e.position
    from reasons
    left join lateral (
        select u.event_id, u.position
        from unnest(reasons.reason.evidence_event_ids) with ordinality as u(event_id, position)
    ) as e on true
),

final as (
    select
        evidence.ordinal,
        evidence.reason.kind,
        evidence.reason.id,
        evidence.reason.level,
        evidence.reason.text,
        evidence.event_id,
        steps.event_at,
        steps.event_type,
        steps.tool_name,
        left(coalesce(steps.tool_args, steps.event_text), 200) as snippet
    from evidence
    left join steps on steps.agent_id = evidence.agent_id and steps.session_id = evidence.session_id
        and steps.event_id = evidence.event_id
    order by evidence.ordinal, evidence.position
)

select * from final
