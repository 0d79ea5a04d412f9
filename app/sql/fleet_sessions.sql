-- grain: one row per agent: what its sessions did over the whole lake (the fleet before `risk`).
with per_agent as (
    select
        agent_id,
        count(*) as sessions,
        sum(count_events)::bigint as events,
        sum(count_tool_calls)::bigint as tool_calls,
        min(started_at) as first_session,
        max(started_at) as last_session,
        avg(goal_drift_level) as mean_goal_drift,
        sum(count_destructive_actions)::bigint as destructive_actions,
        sum(count_out_of_scope_resources)::bigint as out_of_scope_resources,
        sum(count_untrusted_sink_calls)::bigint as untrusted_sink_calls,
        avg(oversight_coverage) as mean_oversight_coverage
    from sessions
    group by agent_id
),

final as (
    select * from per_agent
    order by agent_id
)

select * from final
