-- title: Destructive actions without a matching approval
-- grain: one row per destructive tool call that no approval covers.
with unapproved as (
    select agent_id, session_id, step_index, event_at, tool_name, tool_args
    from steps
    where is_destructive and not coalesce(has_approval, false)
),

final as (
    select * from unapproved
    order by event_at desc
)

select * from final
