-- grain: one row per canonical event (staging: renames, casts and the few `attrs` fields the models
-- need, nothing else). Read by every other model instead of `events`, so the canonical names are
-- mapped, and the raw `attrs` JSON parsed, in this one place:
--   message_id          Claude Code's model message id (attrs.message.id): the events of one message
--                       repeat its token usage
--   approval_key_id, approval_signature, approval_summary
--                       what a human signed (approval events only; DESIGN: approval attrs)
--   is_repeated_result  a tool result another event of the same call reports too (Codex's exec_command_end
--                       beside the call's output item: attrs.repeats_output), so a call has one result
--   housekeeping        the agent's own side chain, not delegation (attrs.housekeeping: Claude Code's
--                       `compaction` and `warmup` side chains)
--   permission_mode     the agent's permission mode recorded on the event (Claude Code permissionMode,
--                       Codex sandbox_policy: its mode is what counts). A cheap substring test first:
--                       parsing every event's attrs as JSON costs more than the rest
with source as (
    select * from events
),

final as (
    select
        agent_id,
        session_id,
        parent_session_id,
        event_id,
        seq,
        ts as event_at,
        cast(timezone('UTC', ts) as date) as event_date,
        event_type,
        actor,
        tool_name,
        tool_call_id,
        tool_args,
        text as event_text,
        cast(input_tokens as bigint) as input_tokens,
        cast(output_tokens as bigint) as output_tokens,
        status,
        flags,
        json_extract_string(attrs, '$.message.id') as message_id,
        case when event_type = 'approval' then json_extract_string(attrs, '$.key_id') end as approval_key_id,
        case when event_type = 'approval' then json_extract_string(attrs, '$.signature') end as approval_signature,
        case when event_type = 'approval' then json_extract_string(attrs, '$.summary') end as approval_summary,
        -- the cheap substring tests first, as for permission_mode below
        coalesce(event_type = 'tool_result' and contains(attrs, '"repeats_output"')
            and json_extract(attrs, '$.repeats_output') = 'true', false) as is_repeated_result,
        case when parent_session_id is not null and contains(attrs, '"housekeeping"')
            then json_extract_string(attrs, '$.housekeeping')
        end as housekeeping,
        case when (contains(attrs, 'ermission') or contains(attrs, 'sandbox_policy'))
            then coalesce(json_extract_string(attrs, '$.permissionMode'),
                json_extract_string(attrs, '$.permission_mode'),
                json_extract_string(attrs, '$.sandbox_policy.mode'),
                json_extract_string(attrs, '$.sandbox_policy'))
        end as permission_mode
    from source
)

select * from final
