-- grain: one row per tool call of one session whose approval was judged (approved, missing, invalid, ...).
with judged as (
    select
        event_id,
        approval_outcome,
        approval_actor,
        is_approval_required
    from steps
    where agent_id = $agent and session_id = $session and approval_outcome is not null
),

final as (
    select * from judged
)

select * from final
