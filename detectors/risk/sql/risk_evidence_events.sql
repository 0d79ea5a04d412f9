-- grain: one row per agent, UTC day and dimension of `risk_gap_days` (the declared-vs-observed gaps:
-- only those days are read): the first ten tool calls (strongest first) of that day that made
-- the dimension riskier (the evidence a declared-vs-observed finding links to). Which calls count
-- follows the mapping in risk_dimensions.sql:
--   access          privilege changes; calls naming a resource outside the declared scope first,
--                   then calls naming any resource
--   action          destructive, privilege and arbitrary-command calls first, then sensitive calls,
--                   then calls that change state (writes and sinks)
--   autonomy        sub-agent spawns and calls of delegated sessions first, then calls that
--                   followed another call with no human turn between them
--   oversight       sensitive calls without a verified approval before them (only a signature
--                   that verifies counts, as in the sessions mart)
--   goal_stability  sink calls carrying an out-of-scope entity from a tool result; repeated calls
--   monitoring      calls without reasoning, token usage or a result captured
with calls as (
    select
        steps.agent_id,
        steps.session_day as day,
        steps.event_id,
        steps.event_at,
        steps.is_privilege,
        steps.is_destructive,
        steps.is_spawn,
        coalesce(steps.is_sensitive, false) as is_sensitive,
        coalesce(steps.is_write, false) or coalesce(steps.is_sink, false) as is_changing,
        len(steps.resources) > 0 as has_resources,
        coalesce(steps.is_sensitive, false)
            and steps.approval_outcome is distinct from $outcome_approved as is_unapproved,
        coalesce(steps.has_untrusted_out_of_scope, false) as is_hijacked_sink,
        coalesce(steps.is_repeat_call, false) as is_repeat_call,
        not (coalesce(steps.has_reasoning, false) and coalesce(steps.has_token_usage, false)
            and coalesce(steps.has_result, false)) as is_unobserved,
        regexp_matches(coalesce(steps.tool_args, ''), $command_args) as is_command,
        list_has_any(list_transform(steps.resources, lambda r: r.kind || ':' || r.value),
            sessions.out_of_scope_resources) as is_out_of_scope,
        sessions.parent_session_id is not null as is_delegated,
        row_number() over (partition by steps.agent_id, steps.session_id, steps.human_turn_index
            order by steps.step_index) > 1 as is_without_human
    from steps
    join sessions using (agent_id, session_id)
    semi join (select distinct agent_id, day from risk_gap_days) as gap_days
        on gap_days.agent_id = steps.agent_id and gap_days.day = steps.session_day
    where steps.event_type = 'tool_call'
),

tagged as (
    select agent_id, day, event_id, event_at, 'access' as dimension,
        case when is_privilege or is_out_of_scope then 0 else 1 end as rank
    from calls where is_privilege or is_out_of_scope or has_resources
    union all
    select agent_id, day, event_id, event_at, 'action',
        case when is_destructive or is_privilege or is_command then 0 when is_sensitive then 1 else 2 end
    from calls where is_destructive or is_privilege or is_command or is_sensitive or is_changing
    union all
    select agent_id, day, event_id, event_at, 'autonomy', case when is_spawn or is_delegated then 0 else 1 end
    from calls where is_spawn or is_delegated or is_without_human
    union all
    select agent_id, day, event_id, event_at, 'oversight', 0 from calls where is_unapproved
    union all
    select agent_id, day, event_id, event_at, 'goal_stability', 0 from calls where is_hijacked_sink or is_repeat_call
    union all
    select agent_id, day, event_id, event_at, 'monitoring', 0 from calls where is_unobserved
),

final as (
    select agent_id, day, dimension, list(event_id order by rank, event_at, event_id)[1:10] as evidence_event_ids
    from tagged
    semi join risk_gap_days using (agent_id, day, dimension)
    group by agent_id, day, dimension
)

select * from final
