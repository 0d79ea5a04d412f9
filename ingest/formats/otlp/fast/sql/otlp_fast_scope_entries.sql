-- grain: one row per scopeSpans entry of a parsed request (ri, si: its position), unnested once for
-- every later step.
with final as (
    select
        line_no,
        ri,
        unnest(entry.scopeSpans) as entry,
        generate_subscripts(entry.scopeSpans, 1) as si
    from otlp_fast_resource_entries
)

select * from final
