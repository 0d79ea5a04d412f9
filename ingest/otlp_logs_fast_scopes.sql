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
        entry is null or coalesce(
            scope_text is not null
            and (
                not (
                    scope_text = '{}'
                    or json_structure(scope_text) in (
                        '{"name":"VARCHAR"}', '{"version":"VARCHAR"}', '{"name":"VARCHAR","version":"VARCHAR"}',
                        '{"version":"VARCHAR","name":"VARCHAR"}'
                    )
                )
                or len(json_keys(scope_text)) <> len(list_distinct(json_keys(scope_text)))
                or regexp_matches(scope_text, '\\u00[01][A-F]')
                or contains(scope_text, '\')
            ), true) as bad
    from scoped
)

select * from final
