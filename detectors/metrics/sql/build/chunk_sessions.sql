-- grain: one statement over int_sessions (one row per session): the agents are built a chunk at a time,
-- so this round's targets and context are the requested ones of the agents with agent_key in
-- $first_agent_key .. $last_agent_key. Chunks never split an agent: its baseline stays whole.
update int_sessions set
    is_target = is_requested_target and agent_key between $first_agent_key and $last_agent_key,
    is_context = is_requested_context and agent_key between $first_agent_key and $last_agent_key
