-- grain: one row per (alert_key, playbook_id, action_id) ever attempted: attempts so far and whether
-- the action is settled (an attempt succeeded, or the last one gave up for good).
with final as (
    select
        alert_key,
        playbook_id,
        action_id,
        count(*) as count_attempts,
        bool_or(outcome in ('ok', 'gave_up')) as is_settled
    from escalations
    group by alert_key, playbook_id, action_id
)

select * from final
