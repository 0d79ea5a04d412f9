-- grain: one row per span of a parsed request (ri, si, pi: its position), unnested once for every
-- later step.
with final as (
    select
        line_no,
        ri,
        si,
        unnest(entry.spans) as span,
        generate_subscripts(entry.spans, 1) as pi
    from otlp_fast_scope_entries
)

select * from final
