-- grain: one row per step of one session: goal drift, and how many resources (and how many out of
-- the agent's declared scope) the session has touched up to that step.
with session_steps as (
    select step_index, event_at, event_type, tool_name, goal_drift, goal_relevance, resources
    from steps
    where agent_id = $agent and session_id = $session
),

out_of_scope as (
    select unnest(out_of_scope_resources) as resource
    from sessions
    where agent_id = $agent and session_id = $session
),

touched as (
    select step_index, r.kind || ':' || r.value as resource
    from (select step_index, unnest(resources) as r from session_steps)
),

first_touch as (
    select
        resource,
        min(step_index) as step_index,
        resource in (select resource from out_of_scope) as is_out_of_scope
    from touched
    group by resource
),

new_per_step as (
    select
        step_index,
        count(*) as new_resources,
        count(*) filter (where is_out_of_scope) as new_out_of_scope
    from first_touch
    group by step_index
),

final as (
    select
        s.step_index,
        s.event_at,
        s.event_type,
        s.tool_name,
        s.goal_drift,
        s.goal_relevance,
        sum(coalesce(n.new_resources, 0)) over w as resources_so_far,
        sum(coalesce(n.new_out_of_scope, 0)) over w as out_of_scope_so_far
    from session_steps as s
    left join new_per_step as n using (step_index)
    window w as (order by s.step_index rows between unbounded preceding and current row)
    order by s.step_index
)

select * from final
