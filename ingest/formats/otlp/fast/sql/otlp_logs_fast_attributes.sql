-- grain: one row per attribute (KeyValue) of a resource (lk null) or a log record of a parsed request:
-- its value as the JSON text the per-record path stores (`value_json`), as the raw record holds it
-- for the digest (`raw_json`), and its counts. String, int, bool and double values are judged here:
-- an int or a double only in the spelling JSON re-serializes unchanged (a double in at most 15
-- digits, written as Python writes that float), anything else (bytes, arrays, kvlists, other
-- spellings) leaves the line to the per-record path.
with resource_attributes as (
    select line_no, ri, null::bigint as lk, unnest(attributes) as kv, generate_subscripts(attributes, 1) as idx
    from otlp_logs_fast_resources
),

record_attributes as (
    select line_no, ri, lk, unnest(attributes) as kv, generate_subscripts(attributes, 1) as idx
    from otlp_logs_fast_records
),

texts as (
    select
        *,
        kv.key as key,
        kv.value.stringValue as string_value,
        kv.value.intValue::varchar as int_text,
        kv.value.boolValue::varchar as bool_text,
        kv.value.doubleValue::varchar as double_text
    from (select * from resource_attributes union all select * from record_attributes)
),

judged as (
    select
        *,
        otlp_json_text(key) as key_json,
        otlp_json_text(string_value) as string_json,
        try_cast(trim(int_text, '"') as bigint) as int_value,
        (string_value is not null)::int + (int_text is not null)::int + (bool_text is not null)::int
        + (double_text is not null)::int as kinds,
        (key is not null)::int + (kv.value is not null)::int as keys
    from texts
),

final as (
    select
        line_no,
        ri,
        lk,
        idx,
        key,
        key_json,
        case
            when string_value is not null then 'string'
            when int_text is not null then 'int'
            when double_text is not null then 'double'
            else 'bool'
        end as kind,
        string_value,
        int_value,
        bool_text,
        double_text,
        case
            when string_value is not null then string_json
            when int_text is not null then int_value::varchar
            when double_text is not null then double_text
            else bool_text
        end as value_json,
        '{"key":' || key_json || ',"value":{"' || case
            when string_value is not null then 'stringValue":' || string_json
            when int_text is not null then 'intValue":' || int_text
            when double_text is not null then 'doubleValue":' || double_text
            else 'boolValue":' || bool_text
        end || '}}' as raw_json,
        2 * (keys + kinds) + otlp_string_quotes(key) + otlp_string_quotes(string_value)
        + otlp_quotes(int_text) + otlp_quotes(bool_text) + otlp_quotes(double_text) as quotes,
        keys + kinds + otlp_colons(key) + otlp_colons(string_value) + otlp_colons(int_text)
        + otlp_colons(bool_text) + otlp_colons(double_text) as colons,
        kv is null
        or key is null
        or kinds <> 1
        or coalesce(int_text is not null and (
            not regexp_full_match(int_text, '0|-?[1-9][0-9]*|"-?[0-9]+"') or int_value is null), false)
        or coalesce(bool_text not in ('true', 'false'), false)
        or coalesce(double_text is not null and not (
            regexp_full_match(double_text, '-?(0|[1-9][0-9]*)\.([0-9]*[1-9]|0)')
            and length(regexp_replace(double_text, '[^0-9]', '', 'g')) <= 15
            and not regexp_full_match(double_text, '-?0\.0000[0-9]*[1-9][0-9]*')), false) as bad
    from judged
)

select * from final
