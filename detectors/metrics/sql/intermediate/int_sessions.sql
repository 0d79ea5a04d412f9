-- grain: one row per session in `stg_events` (every session, not only the ones being rebuilt).
-- session_day (UTC day of the first event) places a session in its agent's history: the baseline
-- of a session on day d is the same agent's sessions on days d - $baseline_days .. d - 1.
-- baseline_session_count: sessions of the same agent in that window.
-- session_key, agent_key: dense integers for the joins of this build only (never stored).
-- is_housekeeping: a child session that is the agent's own side chain, not a sub-agent it delegated to
-- (an event of it says `housekeeping`: Claude Code's compaction and warmup side chains); kept out of
-- the spawn tree.
-- is_requested_target: the session is being (re)built (`metrics_targets`); is_requested_context: its
-- events are needed, because it is a target or lies in the baseline window of a target of the same
-- agent. is_target / is_context: the same, narrowed to the agents built in this round (chunk_sessions).
with spans as (
    select
        agent_id,
        session_id,
        max(parent_session_id) as parent_session_id,
        count(*) as count_events,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        cast(timezone('UTC', min(event_at)) as date) as session_day
    from stg_events
    group by agent_id, session_id
),

-- only child sessions are read: a Parquet scan skips row groups without any
housekeeping as (
    select distinct agent_id, session_id, true as is_housekeeping
    from stg_events
    where parent_session_id is not null and housekeeping is not null
),

targets as (
    select distinct agent_id, session_id, true as is_target
    from metrics_targets
),

target_days as (
    select distinct agent_id, session_day
    from spans
    semi join targets using (agent_id, session_id)
),

context as (
    select distinct spans.agent_id, spans.session_id, true as is_context
    from spans
    join target_days
        on spans.agent_id = target_days.agent_id
        and spans.session_day between target_days.session_day - $baseline_days and target_days.session_day
),

history as (
    select
        agent_id,
        session_day,
        coalesce(sum(count(*)) over (
            partition by agent_id order by session_day
            range between $baseline_days preceding and 1 preceding
        ), 0) as baseline_session_count
    from spans
    group by agent_id, session_day
),

final as (
    select
        spans.*,
        row_number() over (order by spans.agent_id, spans.session_id) as session_key,
        dense_rank() over (order by spans.agent_id) as agent_key,
        history.baseline_session_count,
        coalesce(targets.is_target, false) as is_requested_target,
        coalesce(context.is_context, false) as is_requested_context,
        coalesce(targets.is_target, false) as is_target,
        coalesce(context.is_context, false) as is_context,
        coalesce(housekeeping.is_housekeeping, false) as is_housekeeping
    from spans
    join history using (agent_id, session_day)
    left join targets using (agent_id, session_id)
    left join context using (agent_id, session_id)
    left join housekeeping using (agent_id, session_id)
)

select * from final
