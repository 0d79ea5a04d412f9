-- grain: one row per canonical event (staging: renames and casts only, no logic).
-- Read by every other model instead of `events`, so the canonical names are mapped in one place.
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
    attrs
from events
