-- grain: one row per line the bulk path decodes: its counts reconcile (`otlp_logs_fast_lines`) and
-- every log record of it is a Claude Code or Codex event the bulk mapping makes, with its identity resolved.
with rejected as (
    select line_no
    from otlp_logs_fast_facts
    where
        bad
        or session_id is null
        or name not in (
            'claude_code.user_prompt', 'claude_code.api_request', 'claude_code.api_error',
            'claude_code.tool_result', 'claude_code.tool_decision', 'codex.conversation_starts', 'codex.user_prompt',
            'codex.tool_result', 'codex.tool_decision', 'codex.sse_event', 'codex.api_request'
        )
),

final as (
    select line_no from otlp_logs_fast_lines
    except
    select line_no from rejected
)

select * from final
