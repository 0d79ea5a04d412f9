-- grain: one row per parsed line: whether the bulk path decodes it. The typed parse ignores keys it
-- does not declare and keeps the first of repeated keys, where the per-record path keeps unknown span
-- fields and the last repeated key; so every quote and colon of the raw line must be accounted for
-- by the keys and string values the parse read, or the line goes to the per-record path.
with counts as (
    select line_no, 2 as quotes, 1 as colons, false as bad
    from otlp_fast_requests
    where request.resourceSpans is not null
    union all
    select line_no, quotes, colons, bad from otlp_fast_resources
    union all
    select line_no, quotes, colons, bad from otlp_fast_scopes
    union all
    select line_no, quotes, colons, bad from otlp_fast_spans
    union all
    select line_no, quotes, colons, bad from otlp_fast_attributes
),

repeated_spans as (
    select distinct line_no
    from otlp_fast_spans
    group by line_no, trace_id, span_id
    having count(*) > 1
),

totals as (
    select
        line_no,
        sum(quotes) as quotes,
        sum(colons) as colons,
        bool_or(bad) as bad
    from counts
    group by line_no
),

final as (
    select r.line_no
    from otlp_fast_requests as r
    inner join totals as t on r.line_no = t.line_no
    where
        r.request.resourceSpans is not null
        and not t.bad
        and t.quotes = r.raw_quotes
        and t.colons = r.raw_colons
        and r.line_no not in (select line_no from repeated_spans)
)

select * from final
