-- grain: one row per resourceSpans entry of a parsed request, with what its own keys add to the
-- line's quote and colon counts (each present key: two quotes and a colon).
with entries as (
    select line_no, entry, ri from otlp_fast_resource_entries
),

keyed as (
    select
        line_no,
        ri,
        entry,
        (entry.resource is not null)::int
        + (entry.resource.attributes is not null)::int
        + (entry.scopeSpans is not null)::int as keys
    from entries
),

final as (
    select
        line_no,
        ri,
        entry.resource.attributes as attributes,
        2 * keys as quotes,
        keys as colons,
        entry is null
        or coalesce(len(list_distinct(list_transform(entry.resource.attributes, lambda kv: kv.key))) <> len(entry.resource.attributes), false) as bad
    from keyed
)

select * from final
