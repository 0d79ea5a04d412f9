-- title: Events carrying hostile text (invisible unicode, ANSI, markdown payloads, injection phrasing)
-- grain: one row per event that ingest flagged.
with flagged as (
    select agent_id, session_id, seq, ts, event_type, flags, text
    from events
    where len(flags) > 0
),

final as (
    select * from flagged
    order by ts desc
    limit 500
)

select * from final
