-- grain: one row per target session of this round (appended to metrics_sessions, published as the
-- `sessions` view): volume, goal drift, scope expansion, untrusted-argument flow, destructive and
-- privilege actions, autonomy, oversight, telemetry, delegation, tool loops and hostile-text flags.
-- Formulas sit beside each block; the per-step inputs are documented in the int_*.sql models.
-- Shares and levels are null when nothing was there to measure.
with volume as (
    select
        session_key,
        count(*) as count_events,
        count(*) filter (where event_type = 'user_prompt') as count_user_prompts,
        count(*) filter (where event_type = 'tool_call') as count_tool_calls,
        count(*) filter (where event_type = 'tool_result') as count_tool_results,
        count(*) filter (where event_type = 'llm_response') as count_llm_responses,
        count(*) filter (where event_type = 'reasoning') as count_reasoning,
        count(*) filter (where event_type = 'approval') as count_approvals,
        count(*) filter (where event_type = 'agent_spawn') as count_spawn_events,
        count(*) filter (where status = 'error' or event_type = 'error') as count_errors,
        count(*) filter (where event_type = 'tool_result' and status = 'error') as count_tool_errors,
        coalesce(sum(input_tokens) filter (where not is_repeated_usage), 0)::bigint as sum_input_tokens,
        coalesce(sum(output_tokens) filter (where not is_repeated_usage), 0)::bigint as sum_output_tokens,
        count(*) filter (where input_tokens is not null or output_tokens is not null) as count_events_with_tokens,
        -- goal drift level: mean step drift (summed in fixed point: exact, in any order); max: the worst
        avg(cast(goal_drift as decimal(18, 12))) as goal_drift_level,
        max(goal_drift) as goal_drift_max,
        count(goal_drift) as count_drift_steps,
        -- actions by what they do
        count(*) filter (where is_destructive) as count_destructive_actions,
        count(*) filter (where is_privilege) as count_privilege_actions,
        count(*) filter (where is_network) as count_network_calls,
        count(*) filter (where is_write) as count_write_calls,
        count(*) filter (where is_spawn) as count_spawn_calls,
        -- untrusted-argument flow: sink calls carrying an entity first seen in a tool result
        count(*) filter (where is_sink) as count_sink_calls,
        count(*) filter (where len(untrusted_entities) > 0) as count_untrusted_sink_calls,
        count(*) filter (where has_untrusted_out_of_scope) as count_untrusted_out_of_scope_sink_calls,
        sum(len(untrusted_entities))::bigint as count_untrusted_entities,
        -- oversight coverage = sensitive calls with a verified approval / sensitive calls
        count(*) filter (where is_sensitive) as count_sensitive_actions,
        count(*) filter (where approval_outcome = $outcome_approved) as count_approved_sensitive_actions,
        count(*) filter (where approval_outcome = $outcome_approved) / nullif(count(*) filter (where is_sensitive), 0)
            as oversight_coverage,
        count(*) filter (where approval_outcome = $outcome_missing) as count_approval_missing,
        count(*) filter (where approval_outcome = $outcome_invalid_signature) as count_approval_invalid_signature,
        count(*) filter (where approval_outcome = $outcome_unknown_key) as count_approval_unknown_key,
        count(*) filter (where approval_outcome = $outcome_summary_mismatch) as count_approval_summary_mismatch,
        count(*) filter (where approval_outcome = $outcome_after_the_fact) as count_approval_after_the_fact,
        -- telemetry coverage = calls with reasoning, token usage and a result all captured / calls
        count(*) filter (where has_reasoning and has_token_usage and has_result)
            / nullif(count(*) filter (where event_type = 'tool_call'), 0) as telemetry_coverage,
        avg(has_reasoning::integer) as share_calls_with_reasoning,
        avg(has_token_usage::integer) as share_calls_with_tokens,
        avg(has_result::integer) as share_calls_with_result,
        -- tool loops: most calls of one tool with equivalent arguments; calls beyond the first of each
        coalesce(max(repeat_count), 0) as max_tool_repeat,
        count(*) filter (where is_repeat_call) as count_repeated_tool_calls,
        -- hostile text flagged at ingest: events carrying each kind
        count(*) filter (where list_contains(flags, $flag_invisible_unicode)) as count_flag_invisible_unicode,
        count(*) filter (where list_contains(flags, $flag_ansi_escape)) as count_flag_ansi_escape,
        count(*) filter (where list_contains(flags, $flag_markdown_link_payload)) as count_flag_markdown_link_payload,
        count(*) filter (where list_contains(flags, $flag_injection_phrase)) as count_flag_injection_phrase,
        count(*) filter (where len(flags) > 0) as count_flagged_events
    from int_steps
    group by session_key
),

flag_kinds as (
    select session_key, map_from_entries(list({'key': flag, 'value': n} order by flag)) as flag_counts
    from (
        select session_key, flag, count(*) as n
        from (select session_key, unnest(flags) as flag from int_steps where len(flags) > 0)
        group by session_key, flag
    )
    group by session_key
),

-- goal drift trend: slope of drift over the position of drift-scored steps within their segment,
-- pooled within segments (each new prompt restarts the count): sum(dx * dy) / sum(dx * dx), where
-- dx, dy are deviations from the segment's means. > 0: the agent wanders further as it goes.
drift_points as (
    select
        session_key, prompt_index, cast(goal_drift as decimal(18, 12)) as goal_drift,
        row_number() over (partition by session_key, prompt_index order by step_index) as position
    from int_steps
    where goal_drift is not null
),

drift_centered as (
    select
        session_key,
        cast(position - avg(position) over segment as decimal(18, 12)) as dx,
        cast(goal_drift - avg(goal_drift) over segment as decimal(18, 12)) as dy
    from drift_points
    window segment as (partition by session_key, prompt_index)
),

drift_trend as (
    select session_key, sum(dx * dy) / nullif(sum(dx * dx), 0) as goal_drift_trend
    from drift_centered
    group by session_key
),

-- autonomy: a run is the tool calls between two human turns (user prompt or approval);
-- share without human = 1 - runs that follow a human turn / tool calls (the first call after a
-- human turn had human input, every other call did not)
autonomy_runs as (
    select session_key, human_turn_index, count(*) as calls_in_run
    from int_steps
    where event_type = 'tool_call'
    group by session_key, human_turn_index
),

autonomy as (
    select
        session_key,
        max(calls_in_run) as longest_autonomy_run,
        1 - count(*) filter (where human_turn_index > 0) / sum(calls_in_run) as share_steps_without_human
    from autonomy_runs
    group by session_key
),

final as (
    select
        sessions.agent_id,
        sessions.session_id,
        sessions.parent_session_id,
        sessions.is_housekeeping,
        sessions.session_day,
        sessions.started_at,
        sessions.ended_at,
        epoch(sessions.ended_at - sessions.started_at) as duration_seconds,
        volume.* exclude (session_key, count_spawn_events, count_untrusted_out_of_scope_sink_calls),
        drift_trend.goal_drift_trend,
        coalesce(scope.count_late_new_tools, 0) as count_late_new_tools,
        coalesce(scope.count_late_new_resources, 0) as count_late_new_resources,
        coalesce(scope.count_distinct_resources, 0) as count_distinct_resources,
        sessions.baseline_session_count,
        case when sessions.baseline_session_count > 0 then coalesce(scope.count_new_tools_vs_baseline, 0) end
            as count_new_tools_vs_baseline,
        case when sessions.baseline_session_count > 0 then coalesce(scope.count_new_resources_vs_baseline, 0) end
            as count_new_resources_vs_baseline,
        case when sessions.agent_id in (select agent_id from inventory_agents)
            then coalesce(scope.count_out_of_scope_resources, 0) end as count_out_of_scope_resources,
        coalesce(scope.out_of_scope_resources, []) as out_of_scope_resources,
        case when sessions.agent_id in (select agent_id from inventory_agents)
            then volume.count_untrusted_out_of_scope_sink_calls end as count_untrusted_out_of_scope_sink_calls,
        case when sessions.agent_id in (select agent_id from agent_allowed_tools)
            then coalesce(scope.count_tools_not_allowed, 0) end as count_tools_not_allowed,
        peers.goal_key,
        peers.peer_group_size,
        peers.count_peer_novel_items,
        peers.peer_novel_items,
        coalesce(autonomy.longest_autonomy_run, 0) as longest_autonomy_run,
        autonomy.share_steps_without_human,
        -- sub-agents spawned: the largest of three lower bounds (spawn events, spawn tool calls,
        -- child sessions seen)
        greatest(volume.count_spawn_events, volume.count_spawn_calls, tree.count_child_sessions) as count_spawned,
        tree.count_child_sessions,
        tree.count_descendant_sessions,
        tree.spawn_depth,
        tree.spawn_tree_height,
        tree.in_spawn_cycle,
        coalesce(flag_kinds.flag_counts, map()) as flag_counts
    from int_sessions as sessions
    join volume using (session_key)
    join int_spawn_tree as tree using (session_key)
    left join drift_trend using (session_key)
    left join int_session_scope as scope using (session_key)
    left join int_peer_novelty as peers using (session_key)
    left join autonomy using (session_key)
    left join flag_kinds using (session_key)
    where sessions.is_target
)

select * from final
