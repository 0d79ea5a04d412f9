-- grain: one row per log record (lk) of a line whose counts reconcile: its name, identity and the
-- attributes the Claude Code and Codex mappings (`log_events`) read, typed as the mapping reads them, the JSON
-- texts of its attrs, resource and scope, and its digest. Other families, and attributes of a kind
-- the mapping would coerce (`str()` of a number) or refuse, mark the record `bad`.
with clean as (
    select *
    from otlp_logs_fast_attributes
    where line_no in (select line_no from otlp_logs_fast_lines)
),

resources as (
    select
        line_no,
        ri,
        -- string_agg skips nulls: a value the SQL would not write leaves the whole text null
        case when bool_and(key_json is not null and value_json is not null) then
            '{' || string_agg(key_json || ':' || value_json, ',' order by idx) || '}' end as resource_json,
        case when bool_and(key_json is not null and value_json is not null) then
            '{' || string_agg(key_json || ':' || value_json, ',' order by key) || '}' end as resource_sorted,
        max(string_value) filter (where key = 'service.name' and kind = 'string' and string_value <> '')
            as service_name
    from clean
    where lk is null
    group by line_no, ri
),

raw_attributes as (
    select
        lk,
        case when bool_and(raw_json is not null) then string_agg(raw_json, ',' order by idx) end as raw_attributes,
        bool_and(raw_json is not null) as raw_written,
        -- keys the attrs of the event write after the attributes
        bool_or(key in ('log', 'resource', 'scope', 'source_event_type')) as shadowing
    from clean
    where lk is not null
    group by lk
),

attributes as (
    select
        lk,
        max(string_value) filter (where key = 'event.name' and kind = 'string') as name_attribute,
        coalesce(nullif(max(string_value) filter (where key = 'gen_ai.agent.id'), ''),
                 nullif(max(string_value) filter (where key = 'gen_ai.agent.name'), '')) as agent_attribute,
        coalesce(nullif(max(string_value) filter (where key = 'session.id'), ''),
                 nullif(max(string_value) filter (where key = 'conversation.id'), ''),
                 nullif(max(string_value) filter (where key = 'gen_ai.conversation.id'), '')) as session_attribute,
        coalesce(nullif(max(string_value) filter (where key = 'user.email'), ''),
                 nullif(max(string_value) filter (where key = 'user.id'), ''),
                 max(string_value) filter (where key = 'user.account_uuid')) as actor,
        max(string_value) filter (where key = 'prompt') as prompt,
        max(string_value) filter (where key = 'model') as model,
        max(string_value) filter (where key = 'error') as error,
        max(string_value) filter (where key = 'tool_name') as tool_name,
        max(string_value) filter (where key = 'tool_use_id') as tool_use_id,
        max(string_value) filter (where key = 'call_id') as call_id,
        max(string_value) filter (where key = 'arguments') as arguments,
        max(string_value) filter (where key = 'output') as output,
        max(string_value) filter (where key = 'error.message') as error_message,
        max(string_value) filter (where key = 'event.kind') as event_kind,
        max(string_value) filter (where key = 'approval_policy') as approval_policy,
        max(string_value) filter (where key = 'sandbox_policy') as sandbox_policy,
        bool_or(key = 'arguments') as has_arguments,
        max(string_value) filter (where key = 'decision') as decision,
        max(string_value) filter (where key = 'source') as source,
        bool_or(key = 'tool_input') as has_tool_input,
        coalesce(max(string_value) filter (where key = 'tool_input'),
                 max(string_value) filter (where key = 'tool_parameters')) as tool_args,
        max(case when kind = 'bool' then bool_text = 'true'
                 when lower(string_value) in ('true', 'false') then lower(string_value) = 'true' end)
            filter (where key = 'success') as success,
        max(otlp_count(kind, int_value, string_value))
            filter (where key = 'input_tokens') as input_tokens,
        max(otlp_count(kind, int_value, string_value))
            filter (where key = 'cache_read_tokens') as cache_read_tokens,
        max(otlp_count(kind, int_value, string_value))
            filter (where key = 'cache_creation_tokens') as cache_creation_tokens,
        max(otlp_count(kind, int_value, string_value))
            filter (where key = 'output_tokens') as output_tokens,
        max(otlp_count(kind, int_value, string_value))
            filter (where key = 'input_token_count') as input_token_count,
        max(otlp_count(kind, int_value, string_value))
            filter (where key = 'output_token_count') as output_token_count,
        max(case when kind = 'int' then int_value::double when kind = 'double' then try_cast(double_text as double)
                 when kind = 'string' then try_cast(string_value as double) else 0 end)
            filter (where key = 'duration_ms') as duration_ms,
        bool_or(
            -- values the mapping would coerce with str() or refuse: left to the per-record path
            (key in ('gen_ai.agent.id', 'gen_ai.agent.name', 'session.id', 'conversation.id',
                     'gen_ai.conversation.id', 'user.email', 'user.id', 'user.account_uuid', 'prompt',
                     'model', 'error', 'tool_name', 'tool_use_id', 'decision', 'source', 'tool_input',
                     'tool_parameters', 'call_id', 'arguments', 'output', 'error.message', 'event.kind',
                     'approval_policy', 'sandbox_policy') and kind <> 'string')
            -- Python's lower() and DuckDB's agree on ASCII; a decision spelt otherwise is not judged here
            or (key = 'decision' and regexp_matches(string_value, '[^\x00-\x7F]'))
            or (key = 'success' and not (kind = 'bool' or lower(string_value) in ('true', 'false')))
            or (key in ('input_tokens', 'cache_read_tokens', 'cache_creation_tokens', 'output_tokens',
                        'input_token_count', 'output_token_count')
                and not (kind = 'int' and int_value >= 0
                         or kind = 'string' and regexp_full_match(string_value, '[0-9]{1,18}')))
            or (key = 'duration_ms' and kind = 'string'
                and not regexp_full_match(string_value, '[0-9]{1,15}(\.[0-9]{1,15})?'))
        ) as bad
    from clean
    where lk is not null and key in (
        'event.name', 'gen_ai.agent.id', 'gen_ai.agent.name', 'session.id', 'conversation.id',
        'gen_ai.conversation.id', 'user.email', 'user.id', 'user.account_uuid', 'prompt', 'model', 'error',
        'tool_name', 'tool_use_id', 'decision', 'source', 'tool_input', 'tool_parameters', 'success',
        'input_tokens', 'cache_read_tokens', 'cache_creation_tokens', 'output_tokens', 'duration_ms', 'call_id',
        'arguments', 'output', 'error.message', 'event.kind', 'approval_policy', 'sandbox_policy',
        'input_token_count', 'output_token_count')
    group by lk
),

named as (
    select
        r.*,
        a.* exclude (lk, bad),
        w.raw_attributes,
        w.raw_written,
        coalesce(a.bad, false) or coalesce(w.shadowing, false) as attribute_bad,
        list_filter([r.event_name, a.name_attribute, case
            when length(r.body) between 1 and 128 and not contains(r.body, ' ') and contains(r.body, '.')
            then r.body end], lambda n: n is not null and n <> '') as candidates
    from otlp_logs_fast_records as r
    left join attributes as a on r.lk = a.lk
    left join raw_attributes as w on r.lk = w.lk
    where r.line_no in (select line_no from otlp_logs_fast_lines)
),

final as (
    select
        n.* exclude (candidates, attributes, quotes, colons, bad),
        coalesce(list_filter(n.candidates, lambda c: contains(c, '.'))[1], n.candidates[1], '') as name,
        coalesce(n.agent_attribute, case split_part(name, '.', 1) when 'codex' then 'codex' else 'claude-code' end)
            as agent_id,
        coalesce(n.session_attribute, n.trace_id) as session_id,
        case when n.duration_ms >= 0 and n.duration_ms < 1e12 then n.duration_ms else 0 end as millis,
        s.scope_json,
        case when x.line_no is null then '{}' else x.resource_json end as resource_json,
        -- null (the line goes back) when a text could not be written: concat_ws would skip it
        case when coalesce(n.raw_written, true) and (x.line_no is null or x.resource_sorted is not null) then
            md5('[' || coalesce(x.resource_sorted, '{}') || ',' || s.scope_sorted || ',{' || concat_ws(',',
                case when n.has_attributes then '"attributes":[' || coalesce(n.raw_attributes, '') || ']' end,
                nullif(n.fields_sorted, '')) || '}]') end as digest,
        n.bad or n.attribute_bad as bad
    from named as n
    inner join otlp_logs_fast_scopes as s on n.line_no = s.line_no and n.ri = s.ri and n.si = s.si
    left join resources as x on n.line_no = x.line_no and n.ri = x.ri
)

select * from final
