-- grain: one row per day and level: how many findings fired.
with per_day as (
    select ts::date as day, level, count(*) as findings
    from findings
    where ts is not null
    group by all
),

final as (
    select * from per_day
    order by day, level
)

select * from final
