-- grain: one row per agent with sessions to build or read: how many events its context holds.
with final as (
    select agent_key, agent_id, sum(count_events) as context_events
    from int_sessions
    where is_requested_context
    group by agent_key, agent_id
)

select * from final
order by agent_key
