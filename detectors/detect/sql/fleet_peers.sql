-- grain: one row per session that has a goal: what it used that sessions with the same request
-- anywhere in the fleet (any agent, any day) rarely used. The goal is the metrics' goal_key (the
-- first user prompt, lowercased, digits as '#'); an item is a tool or a resource a call named.
-- Peers: the other sessions with the same goal_key. An item is fleet-novel when fewer than
-- $peer_rare_share of the peers used it; judged only with at least $peer_min_sessions peers.
with goals as (
    select agent_id, session_id, goal_key
    from sessions
    where goal_key is not null
),

items as (
    select distinct agent_id, session_id, 'tool' as kind, tool_name as value
    from steps
    where event_type = 'tool_call' and tool_name is not null
    union
    select agent_id, session_id, resource.kind, resource.value
    from (select agent_id, session_id, unnest(resources) as resource from steps where event_type = 'tool_call')
),

group_sizes as (
    select goal_key, count(*) as sessions_with_goal
    from goals
    group by goal_key
),

-- each session's items beside its goal, once: item_use and judged read it, so no plan joins the
-- goal's every session to the goal's every item (quadratic in the sessions of a common goal)
session_items as materialized (
    select goals.agent_id, goals.session_id, goals.goal_key, items.kind, items.value
    from goals
    join items using (agent_id, session_id)
),

item_use as (
    select goal_key, kind, value, count(*) as sessions_using
    from session_items
    group by all
),

judged as (
    select
        session_items.agent_id,
        session_items.session_id,
        session_items.kind || ':' || session_items.value as item,
        item_use.sessions_using - 1 < $peer_rare_share * (group_sizes.sessions_with_goal - 1) as is_novel
    from session_items
    join group_sizes using (goal_key)
    join item_use using (goal_key, kind, value)
    where group_sizes.sessions_with_goal - 1 >= $peer_min_sessions
),

final as (
    select
        goals.agent_id,
        goals.session_id,
        group_sizes.sessions_with_goal - 1 as fleet_peer_group_size,
        case when group_sizes.sessions_with_goal - 1 >= $peer_min_sessions
            then count(judged.item) filter (where judged.is_novel) end as count_fleet_peer_novel_items,
        coalesce(list(judged.item order by judged.item) filter (where judged.is_novel), []) as fleet_peer_novel_items
    from goals
    join group_sizes using (goal_key)
    left join judged using (agent_id, session_id)
    group by goals.agent_id, goals.session_id, group_sizes.sessions_with_goal
)

select * from final
