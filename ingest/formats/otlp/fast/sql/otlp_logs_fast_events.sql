-- grain: one row per canonical event of the lines the bulk path decodes, as `log_events` maps the
-- Claude Code and Codex families, `otlp_logs` completes them and `records.normalize_event` checks them: the
-- events of a record ordered by time (ties in the order the mapping made them), numbered n for
-- event_id "log:{digest}:{n}" and seq. Parameters: $event_types, $latest_us (later events are
-- flagged `ts_future`).
with decoded as (
    select
        *,
        split_part(name, '.', 1) = 'codex' as is_codex,
        coalesce(error_message, '') <> '' as has_error,
        lower(coalesce(decision, '')) as decision_text
    from otlp_logs_fast_facts
    where line_no in (select line_no from otlp_logs_fast_decoded)
),

logs as (
    select
        *,
        case when is_codex then call_id else tool_use_id end as call_key_id,
        -- a missing source or decision is neither (never null: the events below test these)
        coalesce(
            case when is_codex then source = 'user' else starts_with(coalesce(source, ''), 'user') end
            and case when is_codex then starts_with(decision_text, 'approved') else decision = 'accept' end,
            false) as approved,
        coalesce(case when is_codex then decision_text in ('denied', 'abort') else decision = 'reject' end, false)
            as rejected,
        -- a Codex record the mapping makes nothing of is kept as one event named by the log
        (name = 'codex.sse_event' and not has_error and coalesce(event_kind, '') <> 'response.completed')
        or (name = 'codex.api_request' and not has_error) as is_fallback
    from decoded
),

consumed as (
    select
        lk,
        case
            when name in ('claude_code.user_prompt', 'codex.user_prompt') then ['prompt']
            when name = 'claude_code.api_request' then ['model', 'input_tokens', 'output_tokens']
            when name = 'claude_code.api_error' then ['error', 'model']
            when name = 'claude_code.tool_result' then ['tool_name', 'tool_use_id', 'success',
                case when has_tool_input then 'tool_input' else 'tool_parameters' end]
            when name = 'claude_code.tool_decision' then ['tool_name', 'tool_use_id']
            when name = 'codex.tool_result' then ['tool_name', 'call_id', 'success', 'arguments', 'output']
            when name = 'codex.tool_decision' then ['tool_name', 'call_id']
            when name in ('codex.sse_event', 'codex.api_request') and has_error then ['error.message']
            when name = 'codex.sse_event' and event_kind = 'response.completed'
                then ['input_token_count', 'output_token_count']
            else []
        end as keys,
        -- the fallback event's text is the body (when it is not the name): then not kept in "log"
        is_fallback and body is distinct from name and body is not null as body_consumed
    from logs
),

bases as (
    -- every event of a record shares these attrs: written once per record
    select
        l.lk,
        '{' || coalesce(string_agg(a.key_json || ':' || a.value_json || ',', '' order by a.idx), '')
        || '"log":{"name":' || otlp_json_text(l.name) || coalesce(',' || nullif(l.severity_json, ''), '')
        || case when c.body_consumed then '' else coalesce(',"body":' || otlp_json_text(l.body), '') end || '}'
        || ',"resource":' || l.resource_json || ',"scope":' || l.scope_json as attrs_base,
        bool_and(a.key is null or a.key_json is not null and a.value_json is not null)
        and otlp_json_text(l.name) is not null
        and (l.body is null or otlp_json_text(l.body) is not null) as writable
    from logs as l
    inner join consumed as c on l.lk = c.lk
    left join otlp_logs_fast_attributes as a on a.lk = l.lk and not list_contains(c.keys, a.key)
    group by l.lk, l.name, l.severity_json, l.body, l.resource_json, l.scope_json, c.body_consumed
),

parts as (
    select lk, time_ns, 0 as part_order, 'user_prompt' as event_type, actor,
        nullif(prompt, '[REDACTED]') as text
    from logs where name in ('claude_code.user_prompt', 'codex.user_prompt')
    union all by name
    select lk, time_ns, 0 as part_order, 'system_prompt' as event_type,
        'conversation starts: approval_policy=' || coalesce(approval_policy, 'None') || ', sandbox_policy='
        || coalesce(sandbox_policy, 'None') as text
    from logs where name = 'codex.conversation_starts'
    union all by name
    select lk, time_ns, 0 as part_order, 'llm_response' as event_type, model,
        case when coalesce(input_tokens, cache_read_tokens, cache_creation_tokens) is not null
            then coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0) + coalesce(cache_creation_tokens, 0)
        end as input_tokens,
        output_tokens
    from logs where name = 'claude_code.api_request'
    union all by name
    select lk, time_ns, 0 as part_order, 'llm_response' as event_type, model,
        input_token_count as input_tokens, output_token_count as output_tokens
    from logs where name = 'codex.sse_event' and not has_error and event_kind = 'response.completed'
    union all by name
    select lk, time_ns, 0 as part_order, 'error' as event_type, 'error' as status, error as text, model
    from logs where name = 'claude_code.api_error'
    union all by name
    select lk, time_ns, 0 as part_order, 'error' as event_type, 'error' as status, error_message as text
    from logs where name in ('codex.sse_event', 'codex.api_request') and has_error
    union all by name
    select lk, greatest(time_ns - trunc(millis * 1000000)::bigint, 0) as time_ns, 0 as part_order,
        'tool_call' as event_type, tool_name, call_key_id as tool_call_id,
        case when is_codex then arguments else tool_args end as tool_args,
        case when is_codex then model end as model
    from logs where name in ('claude_code.tool_result', 'codex.tool_result')
    union all by name
    select lk, time_ns, 1 as part_order, 'tool_result' as event_type, tool_name, call_key_id as tool_call_id,
        case when is_codex then output end as text,
        case when success then 'ok' when not success then 'error' end as status
    from logs where name in ('claude_code.tool_result', 'codex.tool_result')
    union all by name
    select lk, time_ns, 0 as part_order,
        case when approved then 'approval' when rejected then 'error' else name end as event_type,
        case when approved then actor end as actor,
        tool_name, call_key_id as tool_call_id,
        case when not approved and rejected then 'error' end as status,
        case when not approved and rejected
            then 'tool use rejected (' || coalesce(nullif(source, ''), 'unknown source') || ')' end as text
    from logs where name in ('claude_code.tool_decision', 'codex.tool_decision')
    union all by name
    select lk, time_ns, 0 as part_order, name as event_type,
        case when body is distinct from name then body end as text
    from logs where is_fallback
),

counted as (
    select
        p.*,
        row_number() over (partition by p.lk order by p.time_ns, p.part_order) - 1 as n,
        list_contains($event_types, p.event_type) as is_known_type
    from parts as p
),

final as (
    select
        l.line_no,
        r.source_offset,
        'log:' || l.digest || ':' || c.n as event_id,
        c.time_ns // 1000 as ts_us,
        l.agent_id,
        l.session_id,
        null::varchar as parent_session_id,
        l.trace_id,
        l.span_id,
        null::varchar as parent_span_id,
        (c.time_ns // 1000) * 1000 + least(c.n, 999) as seq,
        case when c.is_known_type then c.event_type else 'unknown' end as event_type,
        c.actor,
        c.model,
        c.tool_name,
        c.tool_call_id,
        c.tool_args,
        c.text,
        c.input_tokens,
        c.output_tokens,
        c.status,
        list_concat(
            case when c.time_ns // 1000 > $latest_us then ['ts_future'] else [] end,
            case when c.is_known_type then [] else ['unknown_event_type'] end
        ) as flags,
        case when b.writable then b.attrs_base
            || case when c.is_known_type then '' else ',"source_event_type":' || otlp_json_text(c.event_type) end
            || '}' end as attrs
    from counted as c
    inner join logs as l on c.lk = l.lk
    inner join bases as b on c.lk = b.lk
    inner join otlp_logs_fast_requests as r on l.line_no = r.line_no
    order by l.lk, c.n
)

select * from final
