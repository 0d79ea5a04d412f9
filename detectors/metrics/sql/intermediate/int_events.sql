-- grain: one row per event of a context session (see int_sessions), with its place in the session,
-- its words, the entities it names and, for tool calls, what the call does.
-- Words (`tokens`, distinct, for goal drift) come from user prompts, model responses, reasoning and
-- tool calls (tool name plus argument values, JSON keys removed). Entities come from what the humans
-- said (user and system prompts), what tools returned (results) and what the agent asked for (calls).
-- Indices, all counted over the session in order (seq, then time, then event_id):
--   step_index        1, 2, 3 ... the event's position
--   prompt_index      user prompts so far (0 before the first): a new prompt starts a new segment
--   human_turn_index  user prompts and approvals so far: tool calls sharing it ran without a human
--   turn_index        user prompts and tool results so far: a call's reasoning shares its turn
-- One tool call reported twice in a session (OTel GenAI instrumentations log it in the chat span's
-- output messages and again as the execute_tool span; likewise its result) is one action: tool_call /
-- tool_result events repeating the same tool_call_id with the same arguments (whitespace and case
-- aside) or the same result text keep only the first; a result that another record of the call reports
-- again (is_repeated_result) is dropped for the call's own result, an error if either says so.
-- Only the kept events are numbered. Repeated calls and results are compared
-- without RE2's `\s` characters (tab, newline, form feed, carriage return, space) by plain replaces:
-- keying every event's text with a regexp cost as much as splitting all texts into words.
-- Cost: the windows (dropping repeated reports, the indices) sort narrow rows (keys and `event_row`, a
-- row number valid inside this query only) and join the wide rows back once; the repeated-report
-- key partitions by its hash before its text, so long texts are compared only where hashes agree.
with session_events as materialized (
    select stg_events.* exclude (permission_mode, housekeeping),
        int_sessions.session_key, int_sessions.agent_key, int_sessions.session_day, int_sessions.is_target,
        (stg_events.tool_call_id is null or stg_events.event_type not in ('tool_call', 'tool_result'))
            is not true as is_call_report,
        -- names the row inside this query only: the windows below sort narrow rows, then join back by it
        row_number() over () as event_row
    from stg_events
    join int_sessions using (agent_id, session_id)
    -- the round's agents are a range of agent_id: a filter the Parquet scan can prune row groups with
    where int_sessions.is_context
        and stg_events.agent_id between $first_agent_id and $last_agent_id
),

repeated_call_reports as (
    select event_row
    from (
        select event_row, session_key, tool_call_id, event_type, seq, event_at, event_id,
            lower(replace(replace(replace(replace(replace(
                coalesce(tool_args, event_text, ''), ' ', ''), chr(9), ''), chr(10), ''), chr(12), ''), chr(13), ''))
                as call_key
        from session_events
        where is_call_report
    )
    -- the key's hash first: the long text is compared only where the hashes are equal
    qualify row_number() over (
        partition by session_key, tool_call_id, event_type, hash(call_key), call_key
        order by seq, event_at, event_id
    ) > 1
),

-- a result reported again by another record of the same call (is_repeated_result: Codex's
-- exec_command_end beside the call's output item) is one result: the repeat is dropped when the
-- call's own result is there, and that result is an error when the repeat says so
result_repeats as (
    select repeat.event_row, result.event_row as result_row, repeat.status = 'error' as is_failed
    from session_events as repeat
    join session_events as result
        on result.session_key = repeat.session_key
        and result.tool_call_id = repeat.tool_call_id
        and result.event_type = 'tool_result'
        and not result.is_repeated_result
    where repeat.is_repeated_result
),

dropped_reports as (
    select event_row from repeated_call_reports
    union
    select event_row from result_repeats
),

failed_by_repeat as (
    select distinct result_row as event_row, true as is_failed_by_repeat
    from result_repeats
    where is_failed
),

positions as (
    select
        event_row,
        row_number() over session_order as step_index,
        sum(cast(event_type = 'user_prompt' as integer)) over session_order as prompt_index,
        sum(cast(event_type in ('user_prompt', 'approval') as integer)) over session_order as human_turn_index,
        sum(cast(event_type in ('user_prompt', 'tool_result') as integer)) over session_order as turn_index
    from session_events
    anti join dropped_reports using (event_row)
    window session_order as (
        partition by session_key
        order by seq, event_at, event_id
        rows between unbounded preceding and current row
    )
),

ordered as (
    select
        session_events.* exclude (is_call_report, is_repeated_result, event_row, status),
        case when failed_by_repeat.is_failed_by_repeat then 'error' else session_events.status end as status,
        positions.* exclude (event_row)
    from session_events
    join positions using (event_row)
    left join failed_by_repeat using (event_row)
),

sources as (
    select
        *,
        case
            when event_type in ('user_prompt', 'llm_response', 'reasoning') then event_text
            when event_type = 'tool_call'
                then concat_ws(' ', tool_name, regexp_replace(tool_args, $json_key_pattern, ' ', 'g'))
        end as word_source,
        case
            when event_type in ('user_prompt', 'system_prompt', 'tool_result') then event_text
            when event_type = 'tool_call' then tool_args
        end as entity_source,
        lower(tool_name) as tool_name_lower,
        lower(tool_args) as tool_args_lower
    from ordered
),

extracted as (
    select
        *,
        regexp_extract_all(lower(word_source), $word_pattern) as words,
        list_transform(regexp_extract_all(entity_source, $entity_pattern), lambda m: entity_of(m)) as candidates
    from sources
),

guarded as (
    select
        *,
        -- only text that names a table is checked for looking like SQL
        case when list_contains(list_transform(candidates, lambda e: e.kind), 'table')
            then regexp_matches(entity_source, $sql_text_pattern) else false end as is_sql_text
    from extracted
),

classified as (
    select
        *,
        list_distinct(list_filter(words, lambda w: not list_contains($stop_words, w))) as tokens,
        list_distinct(list_filter(
            candidates,
            lambda e: e.value <> ''
                and (e.kind <> 'table' or (is_sql_text and not list_contains($not_tables, e.value)))
        )) as entities,
        is_call_of(event_type, tool_name_lower, tool_args_lower, $privilege_name, $privilege_args) as is_privilege,
        is_call_of(event_type, tool_name_lower, tool_args_lower, $destructive_name, $destructive_args) as is_destructive,
        is_call_of(event_type, tool_name_lower, tool_args_lower, $spawn_name, $spawn_args) as is_spawn,
        is_call_of(event_type, tool_name_lower, tool_args_lower, $network_name, $network_args) as is_network,
        is_call_of(event_type, tool_name_lower, tool_args_lower, $write_name, $write_args) as is_write,
        is_call_of(event_type, tool_name_lower, tool_args_lower, $read_name, $read_args) as is_read
    from guarded
),

-- Claude Code writes one record per content block of a streamed response and repeats the response's
-- usage on each, partial until the last (output tokens grow): the message's usage is its largest
-- report (ties: the last), counted on that one event
final_usage as (
    select
        session_key,
        message_id,
        arg_max(step_index, (coalesce(output_tokens, -1), coalesce(input_tokens, -1), step_index))
            as final_usage_step
    from ordered
    where message_id is not null and (input_tokens is not null or output_tokens is not null)
    group by session_key, message_id
),

final as (
    select
        agent_id,
        session_id,
        session_key,
        agent_key,
        session_day,
        is_target,
        event_id,
        seq,
        event_at,
        event_type,
        actor,
        tool_name,
        tool_call_id,
        tool_args,
        event_text,
        input_tokens,
        output_tokens,
        -- only the event carrying a model message's final usage counts toward token sums
        coalesce(step_index <> final_usage_step, false) as is_repeated_usage,
        status,
        flags,
        approval_key_id,
        approval_signature,
        approval_summary,
        step_index,
        prompt_index,
        human_turn_index,
        turn_index,
        tokens,
        coalesce(entities, []) as entities,
        -- the first category that applies, in $category_precedence (tool_categories.py) order
        case when event_type = 'tool_call' then coalesce(list_filter($category_precedence, lambda c:
            (c = 'privilege' and is_privilege) or (c = 'destructive' and is_destructive)
            or (c = 'spawn' and is_spawn) or (c = 'network' and is_network)
            or (c = 'write' and is_write) or (c = 'read' and is_read)
        )[1], 'other') end as tool_category,
        coalesce(is_privilege, false) as is_privilege,
        coalesce(is_destructive, false) as is_destructive,
        coalesce(is_spawn, false) as is_spawn,
        coalesce(is_network, false) as is_network,
        coalesce(is_write, false) as is_write,
        coalesce(is_read, false) as is_read,
        event_type = 'tool_call' and coalesce(
            is_privilege or is_destructive or is_write
            or regexp_matches(tool_name_lower, $sink_name), false
        ) as is_sink
    from classified
    left join final_usage using (session_key, message_id)
)

select * from final
