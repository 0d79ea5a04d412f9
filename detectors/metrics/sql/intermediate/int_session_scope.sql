-- grain: one row per target session that made at least one tool call: scope expansion.
-- What a call uses: its tool (kind 'tool') and the entities in its arguments (its resources).
--   late new        first used in the session in the late half of its segment (a segment is the run
--                   of calls after one user prompt: call position > ceil(calls in segment / 2)), so work a
--                   new prompt asked for is judged against that prompt, not against the first one
--   new vs baseline never used by the same agent in its sessions of days d-B .. d-1 (`sessions` makes
--                   it null when the agent has no session in that window: no baseline, no verdict)
--   out of scope    a resource of a kind the inventory scopes (path, host, repo, table, email, account,
--                   cloud) that matches none of the agent's patterns for that kind (an empty list
--                   allows nothing); null for agents the inventory does not know
--   not allowed     a tool missing from the agent's allowed_tools (null when the list is empty)
with calls as (
    select
        agent_id, agent_key, session_key, session_day, is_target, step_index, tool_name, entities,
        row_number() over segment as call_position,
        count(*) over (partition by session_key, prompt_index) as calls_in_segment
    from int_events
    where event_type = 'tool_call'
    window segment as (partition by session_key, prompt_index order by step_index)
),

used as (
    select agent_id, agent_key, session_key, session_day, is_target, step_index, call_position,
        calls_in_segment, 'tool' as kind, tool_name as value
    from calls
    where tool_name is not null
    union all
    select agent_id, agent_key, session_key, session_day, is_target, step_index, call_position,
        calls_in_segment, entity.kind as kind, entity.value as value
    from (select *, unnest(entities) as entity from calls where len(entities) > 0)
),

daily as (
    select distinct agent_key, session_day, kind, value
    from used
),

baseline as (
    select
        agent_key,
        session_day,
        kind,
        value,
        count(*) over (
            partition by agent_key, kind, value order by session_day
            range between $baseline_days preceding and 1 preceding
        ) as baseline_days_used
    from daily
),

first_use as (
    select
        agent_id,
        agent_key,
        session_key,
        session_day,
        kind,
        value,
        arg_min(call_position > ceil(calls_in_segment / 2), step_index) as is_late_new
    from used
    where is_target
    group by agent_id, agent_key, session_key, session_day, kind, value
),

scoped_values as (
    select distinct first_use.agent_id, first_use.kind, first_use.value
    from first_use
    semi join inventory_agents using (agent_id)
    where list_contains($scoped_kinds, first_use.kind)
),

in_scope as (
    select scoped_values.agent_id, scoped_values.kind, scoped_values.value,
        bool_or(coalesce(regexp_full_match(scoped_values.value, agent_scope.pattern_regex), false))
            and not any_value(is_dot_dot_path(scoped_values.value)) as is_in_scope
    from scoped_values
    left join agent_scope using (agent_id, kind)
    group by all
),

judged as (
    select
        first_use.*,
        baseline.baseline_days_used = 0 as is_new_vs_baseline,
        not in_scope.is_in_scope as is_out_of_scope,
        first_use.kind = 'tool' and allowed.tool_name is null as is_not_allowed
    from first_use
    join baseline using (agent_key, session_day, kind, value)
    left join in_scope using (agent_id, kind, value)
    left join agent_allowed_tools as allowed
        on first_use.kind = 'tool'
        and allowed.agent_id = first_use.agent_id
        and allowed.tool_name = first_use.value
),

final as (
    select
        judged.session_key,
        count(*) filter (where kind = 'tool' and is_late_new) as count_late_new_tools,
        count(*) filter (where kind <> 'tool' and is_late_new) as count_late_new_resources,
        count(*) filter (where kind <> 'tool') as count_distinct_resources,
        count(*) filter (where kind = 'tool' and is_new_vs_baseline) as count_new_tools_vs_baseline,
        count(*) filter (where kind <> 'tool' and is_new_vs_baseline) as count_new_resources_vs_baseline,
        case when any_value(judged.agent_id) in (select agent_id from inventory_agents)
            then count(*) filter (where is_out_of_scope) end as count_out_of_scope_resources,
        list(kind || ':' || value order by kind, value) filter (where is_out_of_scope)
            as out_of_scope_resources,
        case when any_value(judged.agent_id) in (select agent_id from agent_allowed_tools)
            then count(*) filter (where is_not_allowed) end as count_tools_not_allowed
    from judged
    group by judged.session_key
)

select * from final
