-- title: Deepest delegation trees (runaway sub-agents)
-- grain: one row per root session with sub-agents.
with trees as (
    select agent_id, session_id, started_at, spawn_tree_height, count_descendant_sessions
    from sessions
    where spawn_depth = 0 and count_descendant_sessions > 0
),

final as (
    select * from trees
    order by spawn_tree_height desc, count_descendant_sessions desc
)

select * from final
