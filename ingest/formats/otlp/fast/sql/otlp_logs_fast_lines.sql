-- grain: one row per line the typed parse reads exactly as the per-record path does: every quote and
-- colon of the raw line is accounted for by the keys and string values the parse read (as for traces,
-- `otlp_fast_lines`), so no key went unread, none was repeated and no value was of another kind.
with counts as (
    select line_no, 2 as quotes, 1 as colons, false as bad
    from otlp_logs_fast_requests
    where request.resourceLogs is not null
    union all
    select line_no, quotes, colons, bad from otlp_logs_fast_resources
    union all
    select line_no, quotes, colons, bad from otlp_logs_fast_scopes
    union all
    select line_no, quotes, colons, bad from otlp_logs_fast_records
    union all
    select line_no, quotes, colons, bad from otlp_logs_fast_attributes
),

totals as (
    select line_no, sum(quotes) as quotes, sum(colons) as colons, bool_or(bad) as bad
    from counts
    group by line_no
),

final as (
    select r.line_no
    from otlp_logs_fast_requests as r
    inner join totals as t on r.line_no = t.line_no
    where
        r.request.resourceLogs is not null
        and not t.bad
        and t.quotes = r.raw_quotes
        and t.colons = r.raw_colons
)

select * from final
