-- grain: one row per attribute (KeyValue) of a resource or a span of a parsed request: its value
-- as the JSON text the per-record path stores, and its counts. Only string, int and bool values are
-- judged here; other kinds (double, bytes, array, kvlist) are keys the request type does not declare,
-- so the counts of their line disagree and the per-record path takes it.
with resource_attributes as (
    select
        line_no,
        ri,
        null::bigint as sk,
        unnest(attributes) as kv,
        generate_subscripts(attributes, 1) as idx
    from otlp_fast_resources
),

span_keys as (
    select
        line_no,
        ri,
        span.attributes as attributes,
        -- the same key `otlp_fast_spans` gives the span
        row_number() over (order by line_no, ri, si, pi) as sk
    from otlp_fast_span_entries
),

span_attributes as (
    select
        line_no,
        ri,
        sk,
        unnest(attributes) as kv,
        generate_subscripts(attributes, 1) as idx
    from span_keys
),

texts as (
    select
        *,
        kv.key as key,
        kv.value.stringValue as string_value,
        kv.value.intValue::varchar as int_text,
        kv.value.boolValue::varchar as bool_text
    from (select * from resource_attributes union all select * from span_attributes)
),

judged as (
    select
        *,
        try_cast(trim(int_text, '"') as bigint) as int_value,
        (string_value is not null)::int + (int_text is not null)::int + (bool_text is not null)::int as kinds,
        (key is not null)::int + (kv.value is not null)::int as keys
    from texts
),

final as (
    select
        line_no,
        ri,
        sk,
        idx,
        key,
        case
            when string_value is not null then 'string'
            when int_text is not null then 'int'
            else 'bool'
        end as kind,
        string_value,
        int_value,
        bool_text,
        2 * (keys + kinds) + otlp_string_quotes(key) + otlp_string_quotes(string_value)
        + otlp_quotes(int_text) + otlp_quotes(bool_text) as quotes,
        keys + kinds + otlp_colons(key) + otlp_colons(string_value) + otlp_colons(int_text)
        + otlp_colons(bool_text) as colons,
        kv is null
        or key is null
        or kinds <> 1
        or coalesce(int_text is not null and (
            not regexp_full_match(int_text, '-?[0-9]+|"-?[0-9]+"') or int_value is null), false)
        or coalesce(bool_text not in ('true', 'false'), false) as bad
    from judged
)

select * from final
