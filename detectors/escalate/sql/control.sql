-- grain: at most one row: the pause that started the agent's current paused spell (none: not paused).
-- A pause at the same instant as the latest resume still counts (fail closed).
with mine as (
    select * from control where agent_id = $agent_id
),

resumed as (
    select max("at") as last_resume_at from mine where state = 'resumed'
),

final as (
    select mine."at", mine."by", mine.reason, mine.alert_key
    from mine, resumed
    where mine.state = 'paused' and (resumed.last_resume_at is null or mine."at" >= resumed.last_resume_at)
    order by mine."at"
    limit 1
)

select * from final
