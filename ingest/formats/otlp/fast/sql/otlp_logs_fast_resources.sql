-- grain: one row per resourceLogs entry of a parsed request (ri: its position), with what its own
-- keys add to the line's quote and colon counts. Other resource fields (schemaUrl, dropped counts)
-- are undeclared keys: their line's counts disagree and the per-record path takes it.
with entries as (
    select
        line_no,
        unnest(request.resourceLogs) as entry,
        generate_subscripts(request.resourceLogs, 1) as ri
    from otlp_logs_fast_requests
    where request.resourceLogs is not null
),

keyed as (
    select
        *,
        (entry.resource is not null)::int + (entry.resource.attributes is not null)::int
        + (entry.scopeLogs is not null)::int as keys
    from entries
),

final as (
    select
        line_no,
        ri,
        entry.resource.attributes as attributes,
        entry.scopeLogs as scope_logs,
        2 * keys as quotes,
        keys as colons,
        entry is null
        -- a repeated key keeps its first place and last value per record: not judged here
        or coalesce(len(list_distinct(list_transform(entry.resource.attributes, lambda kv: kv.key)))
            <> len(entry.resource.attributes), false) as bad
    from keyed
)

select * from final
