-- grain: one row per resourceSpans entry of a parsed request (ri: its position), unnested once for
-- every later step.
with final as (
    select
        line_no,
        unnest(request.resourceSpans) as entry,
        generate_subscripts(request.resourceSpans, 1) as ri
    from otlp_fast_requests
    where request.resourceSpans is not null
)

select * from final
