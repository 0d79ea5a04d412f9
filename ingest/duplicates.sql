-- grain: one row per staged event that must not be written because its event_id is already taken,
-- by the lake (view `lake_ids`) or by an earlier row of this batch (first by file, then offset, then
-- staging order). `stage_row` is unique per staged row, so two identical copies of one record (the
-- same span sent twice in one request) keep exactly one.
create table dropped as
with repeated as (
    select event_id
    from staged
    group by event_id
    having count(*) > 1
),

later_copies as (
    select stage_row, file_index
    from staged
    semi join repeated using (event_id)
    qualify row_number() over (partition by event_id order by file_index, source_offset, stage_row) > 1
),

in_lake as (
    select stage_row, file_index
    from staged
    semi join lake_ids using (event_id)
)

select * from later_copies
union
select * from in_lake
