-- grain: one row per rule (or detector) that fired: how often, where, when first and last.
with per_rule as (
    select
        source,
        rule_id,
        arg_max(level, case level when 'critical' then 4 when 'high' then 3 when 'medium' then 2
            when 'low' then 1 else 0 end) as level,
        any_value(title) as title,
        count(*) as findings,
        count(distinct agent_id) as agents,
        count(distinct session_id) as sessions,
        min(ts) as first_at,
        max(ts) as last_at
    from findings
    group by source, rule_id
),

final as (
    select * from per_rule
    order by findings desc, rule_id
)

select * from final
