-- grain: one row per target session: its place in the delegation (spawn) tree.
-- The tree is read from every session's parent_session_id (sessions are matched by session_id alone:
-- a sub-agent may be another agent). Walks stop after $max_spawn_depth levels, so a cycle in hostile
-- data ends; a session that meets itself going up is marked in_spawn_cycle. The agent's own side chains
-- (int_sessions.is_housekeeping) are no sub-agents: they are not in the tree.
--   spawn_depth                 ancestors above the session (0 for a root)
--   spawn_tree_height           levels of descendants below it (0 when it spawned nothing seen)
--   count_child_sessions        sessions naming it as parent
--   count_descendant_sessions   sessions anywhere below it
with recursive edges as (
    select distinct session_id, parent_session_id
    from int_sessions
    where parent_session_id is not null and not is_housekeeping
),

targets as (
    select session_key, session_id
    from int_sessions
    where is_target
),

up(session_id, ancestor, depth) as (
    select targets.session_id, edges.parent_session_id, 1
    from targets
    join edges using (session_id)
    union
    select up.session_id, edges.parent_session_id, up.depth + 1
    from up
    join edges on edges.session_id = up.ancestor
    where up.depth < $max_spawn_depth
),

down(session_id, descendant, depth) as (
    select targets.session_id, edges.session_id, 1
    from targets
    join edges on edges.parent_session_id = targets.session_id
    union
    select down.session_id, edges.session_id, down.depth + 1
    from down
    join edges on edges.parent_session_id = down.descendant
    where down.depth < $max_spawn_depth
),

ancestry as (
    select session_id, max(depth) as spawn_depth, bool_or(ancestor = session_id) as in_spawn_cycle
    from up
    group by session_id
),

descent as (
    select
        session_id,
        max(depth) as spawn_tree_height,
        count(distinct descendant) filter (where depth = 1) as count_child_sessions,
        count(distinct descendant) as count_descendant_sessions
    from down
    group by session_id
),

final as (
    select
        targets.session_key,
        coalesce(ancestry.spawn_depth, 0) as spawn_depth,
        coalesce(ancestry.in_spawn_cycle, false) as in_spawn_cycle,
        coalesce(descent.spawn_tree_height, 0) as spawn_tree_height,
        coalesce(descent.count_child_sessions, 0) as count_child_sessions,
        coalesce(descent.count_descendant_sessions, 0) as count_descendant_sessions
    from targets
    left join ancestry using (session_id)
    left join descent using (session_id)
)

select * from final
