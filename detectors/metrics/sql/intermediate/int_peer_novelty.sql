-- grain: one row per target session that has a goal: how its tools and resources compare with its peers.
-- goal_key: the session's first user prompt, lowercased, digit runs as '#', anything but letters and
-- '#' as one space ("Take ticket #4170 please" and "take ticket #88, please" are both "take ticket ## please").
-- Peers: the same agent's sessions with the same goal on days d-B .. d-1 (agents repeat their jobs).
-- An item (a tool, or a resource a call named) is peer-novel when fewer than $peer_rare_share of the
-- peers used it; counted only when there are at least $peer_min_sessions peers (else null).
with goals as (
    select
        session_key,
        agent_key,
        session_day,
        is_target,
        nullif(trim(regexp_replace(
            regexp_replace(lower(event_text), '[0-9]+', '#', 'g'), '[^\p{L}#]+', ' ', 'g'
        )), '') as goal_key
    from int_events
    where event_type = 'user_prompt' and prompt_index = 1
),

items as (
    select distinct session_key, 'tool' as kind, tool_name as value
    from int_events
    where event_type = 'tool_call' and tool_name is not null
    union
    select session_key, entity.kind, entity.value
    from (select session_key, unnest(entities) as entity from int_events where event_type = 'tool_call')
),

goal_days as (
    select agent_key, goal_key, session_day, count(*) as sessions
    from goals
    where goal_key is not null
    group by agent_key, goal_key, session_day
),

peer_groups as (
    select
        agent_key,
        goal_key,
        session_day,
        coalesce(sum(sessions) over (
            partition by agent_key, goal_key order by session_day
            range between $baseline_days preceding and 1 preceding
        ), 0) as peer_group_size
    from goal_days
),

goal_day_items as (
    select goals.agent_key, goals.goal_key, goals.session_day, items.kind, items.value, count(*) as sessions_using
    from goals
    join items using (session_key)
    where goals.goal_key is not null
    group by all
),

peer_use as (
    select
        agent_key,
        goal_key,
        session_day,
        kind,
        value,
        coalesce(sum(sessions_using) over (
            partition by agent_key, goal_key, kind, value order by session_day
            range between $baseline_days preceding and 1 preceding
        ), 0) as peers_using
    from goal_day_items
),

judged as (
    select
        goals.session_key,
        items.kind,
        items.value,
        peer_use.peers_using < $peer_rare_share * peer_groups.peer_group_size as is_peer_novel
    from goals
    join peer_groups using (agent_key, goal_key, session_day)
    join items using (session_key)
    join peer_use using (agent_key, goal_key, session_day, kind, value)
    where goals.is_target
),

final as (
    select
        goals.session_key,
        goals.goal_key,
        peer_groups.peer_group_size,
        case when peer_groups.peer_group_size >= $peer_min_sessions
            then count(judged.kind) filter (where judged.is_peer_novel) end as count_peer_novel_items,
        case when peer_groups.peer_group_size >= $peer_min_sessions
            then coalesce(list(judged.kind || ':' || judged.value order by judged.kind, judged.value)
                filter (where judged.is_peer_novel), []) end as peer_novel_items
    from goals
    join peer_groups using (agent_key, goal_key, session_day)
    left join judged using (session_key)
    where goals.is_target
    group by goals.session_key, goals.goal_key, peer_groups.peer_group_size
)

select * from final
