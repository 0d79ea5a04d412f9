-- grain: one row per scopeLogs entry of a parsed request: its scope as the JSON text the per-record
-- path stores, the same with sorted keys (for the record digest), and its counts. Only a scope of
-- string `name` / `version` is judged here, as for traces; anything else is per-record policy.
with entries as (
    select
        line_no,
        ri,
        unnest(scope_logs) as entry,
        generate_subscripts(scope_logs, 1) as si
    from otlp_logs_fast_resources
),

scoped as (
    select
        *,
        entry.scope::varchar as scope_text,
        (entry.scope is not null)::int + (entry.logRecords is not null)::int as keys
    from entries
),

final as (
    select
        line_no,
        ri,
        si,
        entry.logRecords as log_records,
        coalesce(scope_text, '{}') as scope_json,
        '{' || concat_ws(',',
            '"name":' || otlp_json_text(scope_text ->> '$.name'),
            '"version":' || otlp_json_text(scope_text ->> '$.version')) || '}' as scope_sorted,
        2 * keys + otlp_quotes(scope_text) as quotes,
        keys + otlp_colons(scope_text) as colons,
        entry is null or otlp_scope_unjudged(scope_text)
        -- an escaped name or version: its sorted text is not judged here
        or coalesce(contains(scope_text, '\'), false) as bad
    from scoped
)

select * from final
