-- grain: one row per session whose metrics can change when the events in `new_events` arrive
-- (`new_events` names them by agent_id, session_id and event_id, and its rows are already part of
-- `events`, read here through staging as `stg_events`):
--   the sessions the new events touch;
--   the same agent's sessions whose baseline window (days d-B .. d-1) holds the day a touched session
--   starts on, counting its start before the new events and after (a late event can move it);
--   every session above or below a touched one in the spawn tree (child counts, depths).
with recursive touched as (
    select distinct agent_id, session_id
    from new_events
),

sessions as (
    select
        agent_id,
        session_id,
        max(parent_session_id) as parent_session_id,
        cast(timezone('UTC', min(event_at)) as date) as session_day
    from stg_events
    group by agent_id, session_id
),

old_events as (
    select stg_events.agent_id, stg_events.session_id, stg_events.event_at
    from stg_events
    semi join touched using (agent_id, session_id)
    anti join new_events using (event_id)
),

touched_days as (
    select agent_id, session_day
    from sessions
    semi join touched using (agent_id, session_id)
    union
    select agent_id, cast(timezone('UTC', min(event_at)) as date)
    from old_events
    group by agent_id, session_id
),

in_window as (
    select sessions.agent_id, sessions.session_id
    from sessions
    join touched_days
        on sessions.agent_id = touched_days.agent_id
        and sessions.session_day > touched_days.session_day
        and sessions.session_day <= touched_days.session_day + $baseline_days
),

edges as (
    select distinct session_id, parent_session_id
    from sessions
    where parent_session_id is not null
),

ancestors(session_id, depth) as (
    select session_id, 0
    from touched
    union
    select edges.parent_session_id, ancestors.depth + 1
    from ancestors
    join edges on edges.session_id = ancestors.session_id
    where ancestors.depth < $max_spawn_depth
),

descendants(session_id, depth) as (
    select session_id, 0
    from touched
    union
    select edges.session_id, descendants.depth + 1
    from descendants
    join edges on edges.parent_session_id = descendants.session_id
    where descendants.depth < $max_spawn_depth
),

relatives as (
    select session_id from ancestors
    union
    select session_id from descendants
),

final as (
    select agent_id, session_id from touched
    union
    select agent_id, session_id from in_window
    union
    select sessions.agent_id, sessions.session_id
    from sessions
    semi join relatives using (session_id)
)

select * from final
