-- grain: one row per span (sk) of a parsed request, with its fields judged as `otlp_common.parse_span`
-- judges them (ids hex, times int64 nanoseconds, enums by number) and its counts. A value the bulk
-- path does not judge (an enum by name, a status message, a time as a float) marks the span `bad`:
-- the per-record path takes its line.
with texts as (
    select
        line_no,
        ri,
        si,
        pi,
        span,
        span.kind::varchar as kind_text,
        span.startTimeUnixNano::varchar as start_text,
        span.endTimeUnixNano::varchar as end_text,
        span.status::varchar as status_text,
        span.flags::varchar as flags_text,
        span.events::varchar as events_text,
        span.links::varchar as links_text
    from otlp_fast_span_entries
),

judged as (
    select
        *,
        try_cast(trim(start_text, '"') as bigint) as start_value,
        try_cast(trim(end_text, '"') as bigint) as end_value,
        try_cast(kind_text as bigint) as kind_value,
        try_cast(regexp_extract(status_text, '^\{"code":([0-9]{1,9})\}$', 1) as bigint) as status_value,
        (span.traceId is not null)::int + (span.spanId is not null)::int + (span.parentSpanId is not null)::int
        + (span.name is not null)::int + (kind_text is not null)::int + (start_text is not null)::int
        + (end_text is not null)::int + (span.attributes is not null)::int + (status_text is not null)::int
        + (flags_text is not null)::int + (events_text is not null)::int + (links_text is not null)::int as keys,
        otlp_string_quotes(span.traceId) + otlp_string_quotes(span.spanId)
        + otlp_string_quotes(span.parentSpanId) + otlp_string_quotes(span.name)
        + otlp_quotes(kind_text) + otlp_quotes(start_text) + otlp_quotes(end_text) + otlp_quotes(status_text)
        + otlp_quotes(flags_text) + otlp_quotes(events_text) + otlp_quotes(links_text) as value_quotes,
        otlp_colons(span.traceId) + otlp_colons(span.spanId) + otlp_colons(span.parentSpanId)
        + otlp_colons(span.name) + otlp_colons(kind_text) + otlp_colons(start_text) + otlp_colons(end_text)
        + otlp_colons(status_text) + otlp_colons(flags_text) + otlp_colons(events_text)
        + otlp_colons(links_text) as value_colons
    from texts
),

final as (
    select
        line_no,
        ri,
        si,
        pi,
        row_number() over (order by line_no, ri, si, pi) as sk,
        lower(span.traceId) as trace_id,
        lower(span.spanId) as span_id,
        lower(nullif(span.parentSpanId, '')) as parent_span_id,
        coalesce(span.name, '') as name,
        case
            when kind_text is null then 'unspecified'
            else coalesce(
                (['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'])[kind_value + 1], 'unknown'
            )
        end as kind,
        start_value as start_ns,
        coalesce(nullif(end_value, 0), start_value) as end_ns,
        case
            when status_text is null or status_text = '{}' then 'unset'
            else coalesce((['unset', 'ok', 'error'])[status_value + 1], 'unknown')
        end as status_code,
        flags_text,
        2 * keys + value_quotes as quotes,
        keys + value_colons as colons,
        span is null
        -- a repeated attribute key keeps its first place and last value per record: not judged here
        or coalesce(len(list_distinct(list_transform(span.attributes, lambda kv: kv.key))) <> len(span.attributes), false)
        or not coalesce(regexp_full_match(span.traceId, '[0-9a-fA-F]{32}'), false)
        or regexp_full_match(span.traceId, '0+')
        or not coalesce(regexp_full_match(span.spanId, '[0-9a-fA-F]{16}'), false)
        or regexp_full_match(span.spanId, '0+')
        or coalesce(span.parentSpanId <> '' and not regexp_full_match(span.parentSpanId, '[0-9a-fA-F]{16}'), false)
        or coalesce(regexp_full_match(span.parentSpanId, '0+'), false)
        or coalesce(not regexp_full_match(kind_text, '[0-9]{1,9}'), false)
        or not coalesce(regexp_full_match(start_text, '[0-9]{1,19}|"[0-9]{1,19}"'), false)
        or coalesce(start_value, 0) <= 0
        -- seq is the time in microseconds * 1000 + n: a later time would overflow it (per-record quarantines)
        or coalesce(start_value > 9223372036854774807 or end_value > 9223372036854774807, false)
        or coalesce(not regexp_full_match(end_text, '[0-9]{1,19}|"[0-9]{1,19}"'), false)
        or (end_text is not null and end_value is null)
        or (status_text is not null and status_text <> '{}' and status_value is null)
        or coalesce(not regexp_full_match(flags_text, '0|[1-9][0-9]{0,17}'), false)
        -- span events and links (approvals, exceptions, legacy messages) are per-record policy
        or coalesce(events_text <> '[]', false)
        or coalesce(links_text <> '[]', false) as bad
    from judged
)

select * from final
