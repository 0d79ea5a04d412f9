-- grain: one row: every value the triage filters can take.
with facets as (
    select
        list(distinct agent_id order by agent_id) filter (where agent_id is not null) as agents,
        list(distinct level order by level) filter (where level is not null) as levels,
        flatten(list(distinct rule_ids) filter (where rule_ids is not null)) as rule_lists,
        min(first_seen_at)::date as first_day,
        max(last_seen_at)::date as last_day
    from alerts
),

final as (
    select agents, levels, list_sort(list_distinct(rule_lists)) as rules, first_day, last_day
    from facets
)

select * from final
