-- grain: one row per resource one session touched: where first, how often, in or out of scope.
with out_of_scope as (
    select unnest(out_of_scope_resources) as resource
    from sessions
    where agent_id = $agent and session_id = $session
),

touched as (
    select step_index, tool_name, r.kind as kind, r.value as value
    from (
        select step_index, tool_name, unnest(resources) as r
        from steps
        where agent_id = $agent and session_id = $session
    )
),

final as (
    select
        kind,
        value,
        kind || ':' || value in (select resource from out_of_scope) as out_of_scope,
        min(step_index) as first_step,
        count(*) as uses,
        list(distinct tool_name order by tool_name) as tools
    from touched
    group by kind, value
    order by out_of_scope desc, first_step
)

select * from final
