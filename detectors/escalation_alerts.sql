-- grain: one row per alert to consider for escalation: every alert of the `alerts` view (with its
-- latest analyst state) except those an analyst closed, oldest first.
with final as (
    select *
    from alerts
    where coalesce(status, 'new') <> 'closed'
)

select * from final
order by first_seen_at, alert_key
