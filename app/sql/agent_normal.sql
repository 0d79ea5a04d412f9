-- grain: one row per session feature: how the agent's other sessions are distributed (its normal).
with agent_sessions as (
    select
        count_events::double as count_events,
        count_tool_calls::double as count_tool_calls,
        duration_seconds::double as duration_seconds,
        goal_drift_level::double as goal_drift_level,
        count_distinct_resources::double as count_distinct_resources,
        count_out_of_scope_resources::double as count_out_of_scope_resources,
        count_late_new_resources::double as count_late_new_resources,
        count_destructive_actions::double as count_destructive_actions,
        count_untrusted_sink_calls::double as count_untrusted_sink_calls,
        count_privilege_actions::double as count_privilege_actions,
        longest_autonomy_run::double as longest_autonomy_run,
        oversight_coverage::double as oversight_coverage,
        telemetry_coverage::double as telemetry_coverage,
        max_tool_repeat::double as max_tool_repeat,
        count_spawned::double as count_spawned,
        sum_output_tokens::double as sum_output_tokens
    from sessions
    where agent_id = $agent and session_id <> $session
),

long as (
    unpivot agent_sessions on columns(*) into name feature value value
),

final as (
    select
        feature,
        count(value) as sessions,
        median(value) as median,
        quantile_cont(value, 0.9) as p90,
        max(value) as max
    from long
    group by feature
    order by feature
)

select * from final
