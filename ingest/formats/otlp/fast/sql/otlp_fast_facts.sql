-- grain: one row per span (sk) of a line the bulk path decodes: what the GenAI conventions read from
-- its attributes (`genai_spans`), which attributes that consumes, and the JSON texts of its resource
-- and of its attributes left for `attrs`. Attributes the bulk path does not map (system instructions,
-- OpenInference kinds, names that collide with keys ingest writes) or of another kind than the
-- mapping reads mark the span `bad`.
with clean as (
    select
        *,
        case
            when string_value is not null then null
            when int_value is not null then int_value::varchar
            else bool_text
        end as scalar_json
    from otlp_fast_attributes
    where line_no in (select line_no from otlp_fast_lines)
),

resources as (
    select
        line_no,
        ri,
        -- string_agg skips nulls: a value the SQL would not write leaves the whole text null
        case when bool_and(otlp_json_text(key) is not null and (scalar_json is not null or
                                                               otlp_json_text(string_value) is not null))
            then '{' || string_agg(
                otlp_json_text(key) || ':' || coalesce(scalar_json, otlp_json_text(string_value)), ',' order by idx
            ) || '}' end as resource_json,
        max(string_value) filter (where key = 'service.name' and kind = 'string' and string_value <> '')
            as service_name
    from clean
    where sk is null
    group by line_no, ri
),

semantics as (
    select
        sk,
        max(string_value) filter (where key = 'gen_ai.operation.name') as operation,
        nullif(max(string_value) filter (where key = 'gen_ai.agent.id'), '') as agent_id_attr,
        nullif(max(string_value) filter (where key = 'gen_ai.agent.name'), '') as agent_name_attr,
        nullif(max(string_value) filter (where key = 'gen_ai.conversation.id'), '') as conversation_id,
        nullif(max(string_value) filter (where key = 'gen_ai.response.model'), '') as response_model,
        nullif(max(string_value) filter (where key = 'gen_ai.request.model'), '') as request_model,
        max(int_value) filter (where key = 'gen_ai.usage.input_tokens') as input_tokens,
        max(int_value) filter (where key = 'gen_ai.usage.output_tokens') as output_tokens,
        max(string_value) filter (where key = 'gen_ai.input.messages') as input_messages,
        max(string_value) filter (where key = 'gen_ai.output.messages') as output_messages,
        max(string_value) filter (where key = 'gen_ai.tool.name') as tool_name,
        max(string_value) filter (where key = 'gen_ai.tool.call.id') as tool_call_id,
        max(string_value) filter (where key = 'gen_ai.tool.call.arguments') as tool_arguments,
        max(string_value) filter (where key = 'gen_ai.tool.call.result') as tool_result,
        bool_or(
            (key in (
                'gen_ai.operation.name', 'gen_ai.agent.id', 'gen_ai.agent.name', 'gen_ai.conversation.id',
                'gen_ai.response.model', 'gen_ai.request.model', 'gen_ai.input.messages',
                'gen_ai.output.messages', 'gen_ai.tool.name', 'gen_ai.tool.call.id',
                'gen_ai.tool.call.arguments', 'gen_ai.tool.call.result'
            ) and kind <> 'string')
            or (key in ('gen_ai.usage.input_tokens', 'gen_ai.usage.output_tokens')
                and (kind <> 'int' or int_value < 0))
            or key in ('gen_ai.system_instructions', 'openinference.span.kind', 'source_event_type')
            or starts_with(key, 'attribute:')
        ) as bad
    from clean
    where sk is not null
    group by sk
),

spans as (
    select
        s.line_no,
        s.ri,
        s.si,
        s.sk,
        s.trace_id,
        s.span_id,
        s.parent_span_id,
        s.name,
        s.kind,
        s.start_ns,
        s.end_ns,
        s.status_code,
        s.flags_text,
        coalesce(p.operation in ('chat', 'text_completion', 'generate_content'), false) as is_chat,
        coalesce(p.operation in ('invoke_agent', 'create_agent', 'invoke_workflow'), false) as is_agent,
        coalesce(p.operation = 'execute_tool', false) as is_tool,
        p.* exclude (sk, bad),
        case when p.agent_id_attr is not null then 'gen_ai.agent.id'
             when p.agent_name_attr is not null then 'gen_ai.agent.name' end as agent_key,
        coalesce(p.agent_id_attr, p.agent_name_attr) as own_agent,
        case when p.response_model is not null then 'gen_ai.response.model'
             when p.request_model is not null then 'gen_ai.request.model' end as model_key,
        coalesce(p.response_model, p.request_model) as model,
        coalesce(p.bad, false) as bad
    from otlp_fast_spans as s
    left join semantics as p on s.sk = p.sk
    where s.line_no in (select line_no from otlp_fast_lines)
),

leftover as (
    select
        sk,
        case when bool_and(piece is not null) then string_agg(piece, '' order by idx) end as attrs_head
    from (
        select
            a.sk,
            a.idx,
            otlp_json_text(
                case when a.key in ('span', 'resource', 'scope', 'source', 'part', 'identity')
                    then 'attribute:' || a.key else a.key end
            ) || ':' || coalesce(a.scalar_json, otlp_json_text(a.string_value)) || ',' as piece
        from clean as a
        inner join spans as s on a.sk = s.sk
        where not (
            coalesce(a.key = s.agent_key, false)
            or (a.key = 'gen_ai.conversation.id' and s.conversation_id is not null)
            or coalesce(a.key = s.model_key, false)
            or ((s.is_chat or s.is_agent) and a.key in ('gen_ai.input.messages', 'gen_ai.output.messages'))
            or (s.is_chat and a.key in ('gen_ai.usage.input_tokens', 'gen_ai.usage.output_tokens'))
            or (s.is_tool and a.key in (
                'gen_ai.tool.name', 'gen_ai.tool.call.id', 'gen_ai.tool.call.arguments', 'gen_ai.tool.call.result'
            ))
        )
    )
    group by sk
),

final as (
    select
        s.*,
        case when l.sk is null then '' else l.attrs_head end as attrs_head,
        case when r.line_no is null then '{}' else r.resource_json end as resource_json,
        r.service_name,
        c.scope_json
    from spans as s
    left join leftover as l on s.sk = l.sk
    left join resources as r on s.line_no = r.line_no and s.ri = r.ri
    inner join otlp_fast_scopes as c on s.line_no = c.line_no and s.ri = c.ri and s.si = c.si
)

select * from final
