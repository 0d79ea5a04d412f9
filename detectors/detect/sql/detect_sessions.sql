-- grain: one row per session (the `sessions` view): its metrics, fleet-wide peer novelty
-- (fleet_peers) and what the detectors derive per session from detect_steps:
--   max_identical_results   most calls of one tool with the same arguments that got the same result
--                           back (a loop that makes no progress; polling sees its result change)
--   spawn_chain_depth       the longest delegation chain through the session (ancestors + descendants
--                           levels), so every session of a runaway tree carries its depth
--   count_calls_with_result / count_calls_with_tokens  telemetry actually captured for the calls
with step_totals as (
    select
        agent_id,
        session_id,
        max(identical_result_count) as max_identical_results,
        count(*) filter (where event_type = 'tool_call' and has_result) as count_calls_with_result,
        count(*) filter (where event_type = 'tool_call' and has_token_usage) as count_calls_with_tokens,
        count(*) filter (where is_destructive or is_recursive_delete or is_destructive_sql) as count_deletions
    from detect_steps
    group by agent_id, session_id
),

final as (
    select
        sessions.*,
        coalesce(step_totals.max_identical_results, 0) as max_identical_results,
        coalesce(step_totals.count_calls_with_result, 0) as count_calls_with_result,
        coalesce(step_totals.count_calls_with_tokens, 0) as count_calls_with_tokens,
        coalesce(step_totals.count_deletions, 0) as count_deletions,
        coalesce(sessions.spawn_depth, 0) + coalesce(sessions.spawn_tree_height, 0) as spawn_chain_depth,
        peers.fleet_peer_group_size,
        peers.count_fleet_peer_novel_items,
        coalesce(peers.fleet_peer_novel_items, []) as fleet_peer_novel_items
    from sessions
    left join step_totals using (agent_id, session_id)
    left join fleet_peers as peers using (agent_id, session_id)
)

select * from final
