-- grain: one row per alert: every flagged session of this run (alert_key stable: a hash of agent and
-- session, so re-runs never duplicate an alert), plus the alerts of earlier runs whose session is no
-- longer flagged (kept as they were, so an analyst's closed alert and its pattern stay on record).
-- level: the highest level among the session's rule and anomaly reasons; title: the first reason.
with flagged as (
    select
        scores.agent_id,
        scores.session_id,
        sha256('session' || chr(31) || scores.agent_id || chr(31) || scores.session_id)[1:24] as alert_key,
        scores.risk_score,
        list_filter(scores.reasons, lambda r: r.kind <> 'feedback') as counted
    from new_session_scores as scores
    where scores.flagged
),

ranked as (
    select
        *,
        -- a level's rank is its position in $levels (low first); an unknown level ranks as the lowest
        list_transform(counted, lambda r: coalesce(list_position($levels, r.level), 1)) as ranks
    from flagged
),

current_alerts as (
    select
        ranked.alert_key,
        ranked.agent_id,
        ranked.session_id,
        $levels[coalesce(list_max(ranks), 2)] as level,
        left(coalesce(counted[1].text, 'flagged session'), 200) as title,
        list_transform(counted, lambda r: r.id) as rule_ids,
        ranked.risk_score,
        coalesce(previous.first_seen_at, $now) as first_seen_at,
        $now::timestamptz as last_seen_at
    from ranked
    left join previous_alerts as previous using (alert_key)
),

final as (
    select * from current_alerts
    union all by name
    select alert_key, agent_id, session_id, level, title, rule_ids, risk_score, first_seen_at, last_seen_at
    from previous_alerts
    anti join current_alerts using (alert_key)
)

select * from final
