-- grain: one row per agent-level risk finding, from the risk stage's own table (before the `findings`
-- view unions it), newest first.
with risk as (
    select agent_id, rule_id, level, title, ts, detail
    from risk_findings
),

final as (
    select * from risk
    order by ts desc nulls last, agent_id, rule_id
)

select * from final
