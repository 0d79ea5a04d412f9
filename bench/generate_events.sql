-- grain: one row per generated canonical event (benchmark data, deterministic: every choice is a hash),
-- sorted by (agent_id, session_id, seq) as the lake stores events.
-- $n_sessions sessions of 10..30 events over $n_agents agents and $n_days days; about 20 events a session.
-- Shape of a session: system prompt, user prompt, then cycles of reasoning, tool call, tool result,
-- model response; now and then a second user prompt, an approval, an error, a hostile-text flag.
with sessions as (
    select
        s,
        'agent-' || (s % $n_agents) as agent_id,
        'sess-' || s as session_id,
        case when hash(s, 'child') % 20 = 0 and s > 0 then 'sess-' || (s - 1) end as parent_session_id,
        timestamptz '2026-01-01 00:00:00+00'
            + to_days(cast(s * $n_days // $n_sessions as integer))
            + to_seconds(cast(hash(s, 'start') % 80000 as bigint)) as started_at,
        10 + cast(hash(s, 'len') % 21 as integer) as n_events
    from range($n_sessions) as t(s)
),

slots as (
    select sessions.*, i
    from sessions, range(n_events) as r(i)
),

typed as (
    select
        *,
        cast(hash(s, i) % 1000003 as bigint) as h,
        case
            when i = 0 then 'system_prompt'
            when i = 1 then 'user_prompt'
            when (i - 2) % 4 = 0 and hash(s, i, 'p') % 12 = 0 then 'user_prompt'
            when (i - 2) % 4 = 0 then 'reasoning'
            when (i - 2) % 4 = 1 then 'tool_call'
            when (i - 2) % 4 = 2 and hash(s, i, 'a') % 15 = 0 then 'approval'
            when (i - 2) % 4 = 2 then 'tool_result'
            else 'llm_response'
        end as event_type,
        'c' || ((i - 2) // 4) as call_id,
        ['payments-api', 'billing', 'ledger', 'web-frontend', 'infra', 'docs'][1 + cast(hash(s, 'repo') % 6 as bigint)] as repo,
        ['invoice', 'refund', 'login', 'timeout', 'cache', 'retry', 'migration', 'report'][1 + cast(hash(s, i, 't') % 8 as bigint)] as topic,
        ['bash', 'read_file', 'write_file', 'http_get', 'run_sql', 'git_push', 'send_email', 'list_dir'][1 + cast(hash(s, i, 'tool') % 8 as bigint)] as tool
    from slots
),

worded as (
    select
        *,
        case event_type
            when 'system_prompt' then 'You are a careful engineering agent working on the ' || repo || ' repository.'
            when 'user_prompt' then 'Please fix the ' || topic || ' bug in ' || repo || ' and run the tests, then report back.'
            when 'reasoning' then 'I should inspect the ' || topic || ' handling in ' || repo || ' before changing code.'
            when 'tool_result' then repeat('line ' || topic || ' ok in module ' || repo || '; ', 6)
                || case when h % 17 = 0 then ' contact billing-' || (h % 97) || '@example.com or pay DE89370400440532013' || lpad((h % 1000)::varchar, 3, '0') else '' end
                || case when h % 23 = 0 then ' see https://docs.example.com/' || topic else '' end
            when 'llm_response' then 'The ' || topic || ' code path in ' || repo || ' looks fine; next I will check the tests.'
        end as text,
        case when event_type = 'tool_call' then case tool
            when 'bash' then '{"cmd": "grep -rn ' || topic || ' /workspace/' || repo || '/src"}'
            when 'read_file' then '{"path": "/workspace/' || repo || '/src/' || topic || '.py"}'
            when 'write_file' then '{"path": "/workspace/' || repo || '/src/' || topic || '.py", "content": "fix"}'
            when 'http_get' then '{"url": "https://api.example.com/' || topic || '"}'
            when 'run_sql' then '{"query": "select * from ' || topic || 's where id = ' || (h % 1000) || '"}'
            when 'git_push' then '{"repo": "acme/' || repo || '", "branch": "fix-' || topic || '"}'
            when 'send_email' then '{"to": "billing-' || (h % 97) || '@example.com", "subject": "' || topic || '"}'
            else '{"path": "/workspace/' || repo || '"}'
        end end as tool_args
    from typed
),

final as (
    select
        session_id || '-' || i as event_id,
        started_at + to_seconds(cast(i * 7 + h % 5 as bigint)) as ts,
        agent_id,
        session_id,
        parent_session_id,
        null::varchar as trace_id,
        null::varchar as span_id,
        null::varchar as parent_span_id,
        i::bigint as seq,
        case when event_type = 'llm_response' and h % 41 = 0 then 'error' else event_type end as event_type,
        case when event_type in ('user_prompt', 'approval') then 'alice' end as actor,
        'model-x' as model,
        case when event_type in ('tool_call', 'tool_result', 'approval') then tool end as tool_name,
        case when event_type in ('tool_call', 'tool_result', 'approval') then call_id end as tool_call_id,
        tool_args,
        text,
        case when event_type in ('llm_response', 'tool_call') and h % 10 <> 0 then (h % 4000)::bigint end as input_tokens,
        case when event_type in ('llm_response', 'tool_call') and h % 10 <> 0 then (h % 600)::bigint end as output_tokens,
        case when event_type = 'tool_result' and h % 29 = 0 then 'error' else 'ok' end as status,
        0::integer as redactions,
        case when h % 101 = 0 then ['injection_phrase'] else []::varchar[] end as flags,
        'native' as source_format,
        'bench.jsonl' as source_file,
        (s * 40 + i)::bigint as source_offset,
        case when event_type = 'approval'
            then '{"key_id": "alice-2026", "signature": "c2ln", "summary": "approve ' || tool || '"}'
            else '{}' end as attrs
    from worded
)

select * from final
order by agent_id, session_id, seq
