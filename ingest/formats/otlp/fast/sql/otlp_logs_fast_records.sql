-- grain: one row per log record (lk) of a parsed request, with its fields judged as
-- `otlp_logs.parse_log` judges them (ids hex, times int64 nanoseconds, a string body) and its counts.
-- A record without `timeUnixNano` or `observedTimeUnixNano`, a body of another kind, an empty body
-- or a time the bulk path does not read marks the record `bad`: the per-record path takes its line.
with entries as (
    select
        line_no,
        ri,
        si,
        unnest(log_records) as log,
        generate_subscripts(log_records, 1) as li
    from otlp_logs_fast_scopes
),

texts as (
    select
        *,
        log.timeUnixNano::varchar as time_text,
        log.observedTimeUnixNano::varchar as observed_text,
        log.severityNumber::varchar as severity_text
    from entries
),

judged as (
    select
        *,
        try_cast(trim(time_text, '"') as bigint) as time_value,
        try_cast(trim(observed_text, '"') as bigint) as observed_value,
        (time_text is not null)::int + (observed_text is not null)::int + (severity_text is not null)::int
        + (log.severityText is not null)::int + (log.body is not null)::int
        + (log.body.stringValue is not null)::int + (log.eventName is not null)::int
        + (log.traceId is not null)::int + (log.spanId is not null)::int
        + (log.attributes is not null)::int as keys,
        otlp_quotes(time_text) + otlp_quotes(observed_text) + otlp_quotes(severity_text)
        + otlp_string_quotes(log.severityText) + otlp_string_quotes(log.body.stringValue)
        + otlp_string_quotes(log.eventName) + otlp_string_quotes(log.traceId)
        + otlp_string_quotes(log.spanId) as value_quotes,
        otlp_colons(time_text) + otlp_colons(observed_text) + otlp_colons(severity_text)
        + otlp_colons(log.severityText) + otlp_colons(log.body.stringValue) + otlp_colons(log.eventName)
        + otlp_colons(log.traceId) + otlp_colons(log.spanId) as value_colons
    from texts
),

final as (
    select
        line_no,
        ri,
        si,
        li,
        row_number() over (order by line_no, ri, si, li) as lk,
        log.attributes as attributes,
        coalesce(nullif(time_value, 0), observed_value) as time_ns,
        log.body.stringValue as body,
        log.eventName as event_name,
        lower(nullif(log.traceId, '')) as trace_id,
        lower(nullif(log.spanId, '')) as span_id,
        -- the severity as `otlp_logs` keeps it (verbatim, in this order), and the record with its keys
        -- sorted as the digest serializes it (values verbatim: the checks below keep only texts that
        -- JSON re-serializes unchanged)
        concat_ws(',', '"severityNumber":' || severity_text,
                  '"severityText":' || otlp_json_text(log.severityText)) as severity_json,
        concat_ws(',',
            '"body":{"stringValue":' || otlp_json_text(log.body.stringValue) || '}',
            '"eventName":' || otlp_json_text(log.eventName),
            '"observedTimeUnixNano":' || observed_text,
            '"severityNumber":' || severity_text,
            '"severityText":' || otlp_json_text(log.severityText),
            '"spanId":' || otlp_json_text(log.spanId),
            '"timeUnixNano":' || time_text,
            '"traceId":' || otlp_json_text(log.traceId)) as fields_sorted,
        log.attributes is not null as has_attributes,
        2 * keys + value_quotes as quotes,
        keys + value_colons as colons,
        log is null
        or coalesce(len(list_distinct(list_transform(log.attributes, lambda kv: kv.key))) <> len(log.attributes), false)
        or (log.body is not null and log.body.stringValue is null)
        -- a text the SQL would not write as orjson does (see `otlp_json_text`)
        or (log.body.stringValue is not null and otlp_json_text(log.body.stringValue) is null)
        or (log.eventName is not null and otlp_json_text(log.eventName) is null)
        or (log.severityText is not null and otlp_json_text(log.severityText) is null)
        or coalesce(not regexp_full_match(time_text, '0|[1-9][0-9]{0,18}|"[0-9]{1,19}"'), false)
        or coalesce(not regexp_full_match(observed_text, '0|[1-9][0-9]{0,18}|"[0-9]{1,19}"'), false)
        or (time_text is not null and time_value is null)
        or (observed_text is not null and observed_value is null)
        or coalesce(nullif(time_value, 0), observed_value, 0) <= 0
        -- past 2262 per-record quarantines; seq (µs * 1000 + n) would overflow
        or coalesce(nullif(time_value, 0), observed_value) > 9223372036854774807
        or coalesce(not regexp_full_match(severity_text, '0|-?[1-9][0-9]{0,17}'), false)
        or coalesce(log.traceId <> '' and not regexp_full_match(log.traceId, '[0-9a-fA-F]{32}'), false)
        or coalesce(regexp_full_match(log.traceId, '0+'), false)
        or coalesce(log.spanId <> '' and not regexp_full_match(log.spanId, '[0-9a-fA-F]{16}'), false)
        or coalesce(regexp_full_match(log.spanId, '0+'), false) as bad
    from judged
)

select * from final
