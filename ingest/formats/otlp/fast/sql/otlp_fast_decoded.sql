-- grain: one row per line the bulk path decodes: its counts reconcile (`otlp_fast_lines`) and none
-- of its spans, identities or messages holds what only the per-record path judges.
with rejected as (
    select line_no from otlp_fast_facts where bad
    union
    select line_no from otlp_fast_identity where bad
    union
    select line_no from otlp_fast_parts where line_bad
),

final as (
    select line_no from otlp_fast_lines
    except
    select line_no from rejected
)

select * from final
