-- grain: one row per agent-level risk finding (declared-vs-observed gaps and the like), newest first.
with risk as (
    select agent_id, rule_id, level, title, ts, detail
    from findings
    where source = 'risk'
),

final as (
    select * from risk
    order by ts desc nulls last, agent_id, rule_id
)

select * from final
