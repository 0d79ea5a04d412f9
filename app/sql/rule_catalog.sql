-- grain: one row per rule of the catalog the last `detect` ran with.
with catalog as (
    select *
    from rules
),

final as (
    select * from catalog
)

select * from final
