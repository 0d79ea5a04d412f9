-- grain: one row per canonical event of the lines the bulk path decodes, as `otlp_spans` and
-- `genai_spans` make them and `records.normalize_event` completes them: the events of each span
-- ordered by time (ties in the order the mapping made them), numbered n within the span for
-- event_id "{trace_id}:{span_id}:{n}" and seq. Parameters: $event_types, $input_types (event types
-- whose event does not carry the call's model), $latest_us (later events are flagged `ts_future`).
with spans as (
    select
        f.*,
        i.* exclude (line_no, sk, bad),
        -- every event of a span shares these attrs: written once per span
        '{' || f.attrs_head
        || '"span":{"name":' || otlp_json_text(f.name) || ',"kind":"' || f.kind
        || '","start_time_unix_nano":' || f.start_ns || ',"end_time_unix_nano":' || f.end_ns
        || ',"status_code":"' || f.status_code || '"'
        || coalesce(',"flags":' || f.flags_text, '') || '}'
        || ',"resource":' || f.resource_json || ',"scope":' || f.scope_json
        || ',"identity":{"agent":"' || i.agent_source || '","session":"' || i.session_source || '"}'
            as attrs_base
    from otlp_fast_facts as f
    inner join otlp_fast_identity as i using (line_no, sk)
    where f.line_no in (select line_no from otlp_fast_decoded)
),

message_parts as (
    select p.* exclude (line_bad)
    from otlp_fast_parts as p
    where p.line_no in (select line_no from otlp_fast_decoded)
),

first_response as (
    select line_no, sk, min(part_order) as part_order
    from message_parts
    where event_type = 'llm_response'
    group by line_no, sk
),

spawns as (
    select
        line_no, sk, start_ns as time_ns, 0 as part_order, 'agent_spawn' as event_type,
        'span' as source,
        case when parent_session is distinct from session_id then parent_session end as parent_session_id,
        '{"parent_agent_id":' || otlp_json_text(parent_agent) || '}' as part_json
    from spans
    where is_agent and parent_agent is not null
),

tools as (
    select
        line_no, sk, unnest([start_ns, end_ns]) as time_ns,
        unnest([1000000000, 1000000001]) as part_order,
        unnest(['tool_call', 'tool_result']) as event_type,
        'span' as source,
        case
            when tool_name <> '' then tool_name
            else nullif(otlp_strip(case when starts_with(name, 'execute_tool') then name[13:] else name end), '')
        end as tool_name,
        tool_call_id,
        unnest([tool_arguments, null]) as tool_args,
        unnest([null, tool_result]) as text
    from spans
    where is_tool
),

anchors as (
    select line_no, sk, end_ns as time_ns, 2000000000 as part_order, 'llm_response' as event_type,
        'span' as source
    from spans
    anti join first_response using (line_no, sk)
    where is_chat
),

made as (
    select * from message_parts
    union all by name select * from spawns
    union all by name select * from tools
    union all by name select * from anchors
),

fallbacks as (
    select line_no, sk, start_ns as time_ns, 3000000000 as part_order, 'span' as source,
        case when is_agent then 'system_prompt' else coalesce(nullif(operation, ''), 'span') end as event_type
    from spans
    anti join made using (line_no, sk)
),

parts as (
    select m.*, (m.event_type = 'llm_response' and (
        m.part_order = r.part_order or (r.part_order is null and m.part_order = 2000000000))) as is_anchor
    from (select * from made union all by name select * from fallbacks) as m
    left join first_response as r using (line_no, sk)
),

numbers as (
    -- part_order is unique within a span, so n numbers the span's events without ties (on the
    -- narrow rows: the window sorts no text)
    select
        sk,
        part_order,
        row_number() over (partition by sk order by time_ns, part_order) - 1 as n
    from parts
),

counted as (
    select
        p.*,
        x.n,
        s.* exclude (line_no, sk, tool_name, tool_call_id, input_tokens, output_tokens),
        case when p.is_anchor then s.input_tokens end as input_tokens,
        case when p.is_anchor then s.output_tokens end as output_tokens,
        list_contains($event_types, p.event_type) as is_known_type
    from parts as p
    inner join numbers as x using (sk, part_order)
    inner join spans as s using (line_no, sk)
),

final as (
    select
        line_no,
        sk,
        n,
        source_offset,
        trace_id || ':' || span_id || ':' || n as event_id,
        time_ns // 1000 as ts_us,
        agent_id,
        session_id,
        parent_session_id,
        trace_id,
        span_id,
        parent_span_id,
        (time_ns // 1000) * 1000 + least(n, 999) as seq,
        case when is_known_type then event_type else 'unknown' end as event_type,
        null::varchar as actor,
        case when list_contains($input_types, event_type) then null else model end as model,
        tool_name,
        tool_call_id,
        tool_args,
        text,
        input_tokens,
        output_tokens,
        case status_code when 'ok' then 'ok' when 'error' then 'error' end as status,
        list_concat(
            case when time_ns // 1000 > $latest_us then ['ts_future'] else [] end,
            case when is_known_type then [] else ['unknown_event_type'] end
        ) as flags,
        attrs_base
        || ',"source":"' || source || '"'
        || coalesce(',"part":' || part_json, '')
        || case when is_known_type then '' else ',"source_event_type":' || otlp_json_text(event_type) end
        || '}' as attrs
    from counted
    inner join otlp_fast_requests using (line_no)
)

select * exclude (sk, n) from final order by sk, n
