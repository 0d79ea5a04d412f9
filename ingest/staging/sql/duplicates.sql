-- grain: one row per staged event that must not be written because its dedup key is already taken,
-- by the lake (view `lake_ids`) or by an earlier row of this batch (first by file, then offset, then
-- staging order). The key is the event id *within its source and session*: (source_format, agent_id,
-- session_id, event_id). Sources reuse ids (Claude Code transcripts that restart `u0`, `a1` in every
-- session), so an id alone would merge events of different sessions, agents or formats.
-- `stage_row` is unique per staged row, so two identical copies of one record (the same span sent
-- twice in one request) keep exactly one.
create table dropped as
with repeated as (
    select source_format, agent_id, session_id, event_id
    from staged
    group by all
    having count(*) > 1
),

later_copies as (
    select stage_row, file_index
    from staged
    semi join repeated using (source_format, agent_id, session_id, event_id)
    qualify row_number() over (
        partition by source_format, agent_id, session_id, event_id
        order by file_index, source_offset, stage_row
    ) > 1
),

in_lake as (
    select stage_row, file_index
    from staged
    semi join lake_ids using (source_format, agent_id, session_id, event_id)
),

final as (
    select * from later_copies
    union
    select * from in_lake
)

select * from final
