-- grain: one row per message part of the `gen_ai.input.messages` / `gen_ai.output.messages` of a
-- chat or agent span, mapped as `genai_messages` maps it. The messages (JSON text) are parsed once
-- into typed structs; as for the request, every quote and colon of the text must be accounted for,
-- so unknown or repeated keys and values of another kind leave the line to the per-record path, as do
-- input histories (an assistant message among the inputs), unknown roles and part types, and tool
-- arguments other than a JSON string or a flat object.
with texts as (
    select line_no, sk, 0 as side, start_ns as time_ns, input_messages as text
    from otlp_fast_facts
    where (is_chat or is_agent) and input_messages is not null
    union all
    select line_no, sk, 1 as side, end_ns as time_ns, output_messages as text
    from otlp_fast_facts
    where (is_chat or is_agent) and output_messages is not null
),

parsed as (
    select
        *,
        try(from_json(text, '[{"role": "VARCHAR", "parts": [{"type": "VARCHAR", "content": "VARCHAR",
            "id": "VARCHAR", "name": "VARCHAR", "arguments": "JSON", "response": "VARCHAR"}]}]')) as messages
    from texts
),

messages as (
    select
        line_no, sk, side, time_ns,
        unnest(messages) as message,
        generate_subscripts(messages, 1) as mi
    from parsed
),

parts as (
    select
        line_no, sk, side, time_ns, mi, message.role as role,
        unnest(message.parts) as part,
        generate_subscripts(message.parts, 1) as pj
    from messages
),

typed as (
    select
        *,
        part.type as part_type,
        part.arguments::varchar as arguments_text,
        (part.type is not null)::int + (part.content is not null)::int + (part.id is not null)::int
        + (part.name is not null)::int + (part.arguments is not null)::int
        + (part.response is not null)::int as keys
    from parts
),

judged as (
    select
        *,
        case
            when part_type = 'text' then (map {
                'system': 'system_prompt', 'developer': 'system_prompt', 'user': 'user_prompt',
                'human': 'user_prompt', 'assistant': 'llm_response', 'model': 'llm_response',
                'ai': 'llm_response', 'tool': 'tool_result', 'function': 'tool_result',
                'ipython': 'tool_result'
            })[lower(role)]
            when part_type in ('reasoning', 'thinking') then 'reasoning'
            when part_type = 'tool_call' then 'tool_call'
            when part_type = 'tool_call_response' then 'tool_result'
        end as event_type,
        part is null
        or role is null
        or part_type is null
        or (part_type in ('text', 'reasoning', 'thinking')
            and (part.id is not null or part.name is not null or part.arguments is not null
                 or part.response is not null))
        or (part_type = 'tool_call' and (part.content is not null or part.response is not null))
        or (part_type = 'tool_call_response'
            and (part.content is not null or part.name is not null or part.arguments is not null))
        or coalesce(
            not starts_with(arguments_text, '"')
            and not (
                starts_with(arguments_text, '{')
                and not regexp_matches(json_structure(arguments_text), '[\[]|^\{.*\{|DOUBLE|HUGEINT|"JSON"')
                and len(json_keys(arguments_text)) = len(list_distinct(json_keys(arguments_text)))
                and not regexp_matches(arguments_text, '\\u00[01][A-F]')
            ), false) as bad
    from typed
),

message_counts as (
    select
        line_no, sk, side,
        sum(2 * ((message.role is not null)::int + (message.parts is not null)::int)
            + otlp_string_quotes(message.role)) as quotes,
        sum((message.role is not null)::int + (message.parts is not null)::int + otlp_colons(message.role)) as colons,
        bool_or(message is null or message.role is null or message.parts is null or (side = 0 and lower(message.role) in ('assistant', 'model', 'ai')))
            as bad
    from messages
    group by line_no, sk, side
),

part_counts as (
    select
        line_no, sk, side,
        sum(2 * keys + otlp_string_quotes(part_type) + otlp_string_quotes(part.content)
            + otlp_string_quotes(part.id) + otlp_string_quotes(part.name)
            + otlp_string_quotes(part.response) + otlp_quotes(arguments_text)) as quotes,
        sum(keys + otlp_colons(part_type) + otlp_colons(part.content) + otlp_colons(part.id)
            + otlp_colons(part.name) + otlp_colons(part.response) + otlp_colons(arguments_text)) as colons,
        bool_or(bad or event_type is null) as bad
    from judged
    group by line_no, sk, side
),

verdicts as (
    select
        t.line_no,
        t.messages is null
        or coalesce(m.quotes, 0) + coalesce(p.quotes, 0) <> otlp_quotes(t.text)
        or coalesce(m.colons, 0) + coalesce(p.colons, 0) <> otlp_colons(t.text)
        or coalesce(m.bad, false)
        or coalesce(p.bad, false) as bad
    from parsed as t
    left join message_counts as m using (line_no, sk, side)
    left join part_counts as p using (line_no, sk, side)
),

final as (
    select
        j.line_no, j.sk,
        j.time_ns,
        -- the mapping's order within the span: agent_spawn (0), message parts, then the anchor (2)
        1000000000 + row_number() over (partition by j.sk order by j.side, j.mi, j.pj) as part_order,
        j.event_type,
        case when j.side = 0 then 'gen_ai.input.messages' else 'gen_ai.output.messages' end as source,
        case when j.part_type in ('text', 'reasoning', 'thinking') then j.part.content
             when j.part_type = 'tool_call_response' then j.part.response end as text,
        case when j.part_type = 'tool_call' then j.part.name end as tool_name,
        case when j.part_type in ('tool_call', 'tool_call_response') then j.part.id end as tool_call_id,
        case when starts_with(j.arguments_text, '"') then j.arguments_text ->> '$'
             else j.arguments_text end as tool_args,
        '{"role":' || otlp_json_text(j.role) || ',"part_type":' || otlp_json_text(j.part_type) || '}' as part_json,
        j.line_no in (select line_no from verdicts where bad) as line_bad
    from judged as j
    union all by name
    select distinct line_no, true as line_bad from verdicts where bad
)

select * from final
