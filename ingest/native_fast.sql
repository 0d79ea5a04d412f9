-- grain: one row per line of a native JSON Lines batch (table `batch`: line_no, source_offset, line).
-- Decodes in bulk the lines that are plainly clean; every other line is marked is_clean = false and
-- goes through ingest.records one by one, which owns the policy and the quarantine reasons. So this
-- file only has to be conservative: "clean" must imply the per-record path would accept the line as is.
-- $1 source_file, $2 now (timestamptz), $3 future tolerance (interval)
with typed as (
    select
        line_no,
        source_offset,
        line,
        json_valid(line)
            and json_type(line) = 'OBJECT'
            and not contains(line, 'NaN')
            and not contains(line, 'Infinity') as is_object
    from batch
),

objects as (
    select
        line_no,
        source_offset,
        line,
        json_keys(line) as keys,
        from_json(line, '{
            "event_id": "JSON", "ts": "JSON", "agent_id": "JSON", "session_id": "JSON",
            "parent_session_id": "JSON", "trace_id": "JSON", "span_id": "JSON", "parent_span_id": "JSON",
            "seq": "JSON", "event_type": "JSON", "actor": "JSON", "model": "JSON", "tool_name": "JSON",
            "tool_call_id": "JSON", "tool_args": "JSON", "text": "JSON", "input_tokens": "JSON",
            "output_tokens": "JSON", "status": "JSON", "attrs": "JSON"
        }') as j
    from typed
    where is_object
),

kinds as (
    select
        *,
        coalesce(json_type(j.ts), 'NULL') as ts_kind,
        j.ts ->> '$' as ts_text,
        list_transform(
            [j.event_id, j.parent_session_id, j.trace_id, j.span_id, j.parent_span_id, j.actor,
             j.model, j.tool_name, j.tool_call_id, j.text, j.status],
            lambda x: coalesce(json_type(x), 'NULL')
        ) as optional_string_kinds,
        list_transform(
            [j.agent_id, j.session_id, j.event_type],
            lambda x: coalesce(json_type(x), 'NULL')
        ) as required_string_kinds,
        list_transform(
            [j.seq, j.input_tokens, j.output_tokens],
            lambda x: coalesce(json_type(x), 'NULL')
        ) as integer_kinds
    from objects
),

judged as (
    select
        *,
        len(keys) = len(list_distinct(keys))
        and list_has_all(
            ['event_id', 'ts', 'agent_id', 'session_id', 'parent_session_id', 'trace_id', 'span_id',
             'parent_span_id', 'seq', 'event_type', 'actor', 'model', 'tool_name', 'tool_call_id',
             'tool_args', 'text', 'input_tokens', 'output_tokens', 'status', 'attrs'],
            keys
        )
        and ts_kind = 'VARCHAR'
        and regexp_full_match(ts_text, '\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})')
        and try_cast(ts_text as timestamptz) between timestamptz '1970-01-01 00:00:00+00' and $2 + $3
        and list_bool_and(list_transform(required_string_kinds, lambda k: k = 'VARCHAR'))
        and list_bool_and(list_transform(optional_string_kinds, lambda k: k in ('VARCHAR', 'NULL')))
        and list_bool_and(list_transform(integer_kinds, lambda k: k in ('BIGINT', 'UBIGINT', 'NULL')))
        and (j.seq is null or try_cast(j.seq as bigint) is not null)
        and coalesce(j.agent_id ->> '$', '') <> ''
        and coalesce(j.session_id ->> '$', '') <> ''
        and coalesce(j.event_type ->> '$', '') in (
            'user_prompt', 'system_prompt', 'llm_response', 'reasoning', 'tool_call', 'tool_result',
            'approval', 'agent_spawn', 'error'
        )
        and coalesce(j.status ->> '$', 'ok') in ('ok', 'error')
        and (j.input_tokens is null or coalesce(try_cast(j.input_tokens as bigint), -1) >= 0)
        and (j.output_tokens is null or coalesce(try_cast(j.output_tokens as bigint), -1) >= 0)
        and coalesce(json_type(j.tool_args), 'NULL') in ('VARCHAR', 'OBJECT', 'ARRAY', 'NULL')
        and coalesce(json_type(j.attrs), 'NULL') in ('OBJECT', 'NULL') as is_clean
    from kinds
),

final as (
    select
        t.line_no,
        coalesce(d.is_clean, false) as is_clean,
        coalesce(
            d.j.event_id ->> '$',
            substr(sha256($1 || chr(31) || t.source_offset::varchar || chr(31) || '0' || chr(31) || t.line), 1, 32)
        ) as event_id,
        try_cast(d.ts_text as timestamptz) as ts,
        d.j.agent_id ->> '$' as agent_id,
        d.j.session_id ->> '$' as session_id,
        d.j.parent_session_id ->> '$' as parent_session_id,
        d.j.trace_id ->> '$' as trace_id,
        d.j.span_id ->> '$' as span_id,
        d.j.parent_span_id ->> '$' as parent_span_id,
        coalesce(try_cast(d.j.seq as bigint), t.line_no) as seq,
        d.j.event_type ->> '$' as event_type,
        d.j.actor ->> '$' as actor,
        d.j.model ->> '$' as model,
        d.j.tool_name ->> '$' as tool_name,
        d.j.tool_call_id ->> '$' as tool_call_id,
        case when json_type(d.j.tool_args) = 'VARCHAR' then d.j.tool_args ->> '$'
            else d.j.tool_args::varchar end as tool_args,
        d.j.text ->> '$' as text,
        try_cast(d.j.input_tokens as bigint) as input_tokens,
        try_cast(d.j.output_tokens as bigint) as output_tokens,
        d.j.status ->> '$' as status,
        0::integer as redactions,
        case when d.j.seq is null then ['seq_from_line'] else []::varchar[] end as flags,
        'native' as source_format,
        $1 as source_file,
        t.source_offset,
        coalesce(d.j.attrs::varchar, '{}') as attrs
    from batch as t
    left join judged as d using (line_no)
)

select * from final order by line_no
