-- grain: one row per alert to consider for escalation: every alert of the `alerts` view (with its
-- latest analyst state) except those an analyst closed and, when $not_before is given, those first
-- seen before it (so enabling playbooks on an old lake does not page its history), oldest first.
with final as (
    select *
    from alerts
    where coalesce(status, 'new') <> 'closed'
        and ($not_before::timestamptz is null or first_seen_at >= $not_before::timestamptz)
)

select * from final
order by first_seen_at, alert_key
