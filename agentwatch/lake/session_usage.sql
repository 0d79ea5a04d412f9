-- grain: one row per agent, session, metric, usage type, model and unit (a null session: a fleet-wide counter)
-- What the agents' own counters add up to, from `metric_points`: the points of a delta series add up; a
-- cumulative series reports its running total, so each series (same attributes, resource and start) counts
-- its latest point, and a restarted counter (a new start) adds a series; a gauge counts its latest point.
with series as (
    select
        agent_id,
        session_id,
        metric_name,
        usage_type,
        model,
        unit,
        metric_type,
        temporality,
        attributes,
        resource,
        start_ts,
        sum(value) as summed_value,
        max_by(value, ts) as latest_value,
        sum(count) as summed_count,
        max_by(count, ts) as latest_count,
        count(*) as points,
        min(ts) as first_ts,
        max(ts) as last_ts
    from metric_points
    group by all
),

totals as (
    select
        *,
        case when metric_type = 'gauge' or temporality = 'cumulative' then latest_value else summed_value end
            as total,
        case when temporality = 'cumulative' then latest_count else summed_count end as observations
    from series
),

final as (
    select
        agent_id,
        session_id,
        metric_name,
        usage_type,
        model,
        unit,
        sum(total) as total,
        sum(observations)::bigint as observations,
        sum(points)::bigint as points,
        min(first_ts) as first_ts,
        max(last_ts) as last_ts
    from totals
    group by all
)

select * from final
