-- grain: one row per alert: the triage queue, riskiest first, each with the analyst's latest state.
-- A null filter parameter means "no filter on this column"; an alert without times passes the date filter.
with filtered as (
    select *
    from alerts
    where ($agents::varchar[] is null or list_contains($agents::varchar[], agent_id))
        and ($levels::varchar[] is null or list_contains($levels::varchar[], level))
        and ($statuses::varchar[] is null or list_contains($statuses::varchar[], status))
        and ($rules::varchar[] is null or len(list_intersect(rule_ids, $rules::varchar[])) > 0)
        and ($since::date is null or coalesce(last_seen_at::date >= $since::date, true))
        and ($until::date is null or coalesce(first_seen_at::date <= $until::date, true))
),

final as (
    select
        alert_key,
        risk_score,
        level,
        status,
        agent_id,
        session_id,
        title,
        rule_ids,
        first_seen_at,
        last_seen_at,
        status_by,
        status_note,
        status_at
    from filtered
    order by risk_score desc nulls last, last_seen_at desc, alert_key
)

select * from final
