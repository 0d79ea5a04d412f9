-- grain: one row per scopeSpans entry of a parsed request: its scope as the JSON text the per-record
-- path would store (orjson keeps key order, as DuckDB's minified text does), and its counts.
-- Only a scope of string `name` / `version` is judged here; anything else is per-record policy.
with scoped as (
    select
        line_no,
        ri,
        si,
        entry,
        entry.scope::varchar as scope_text,
        (entry.scope is not null)::int + (entry.spans is not null)::int as keys
    from otlp_fast_scope_entries
),

final as (
    select
        line_no,
        ri,
        si,
        coalesce(scope_text, '{}') as scope_json,
        2 * keys + otlp_quotes(scope_text) as quotes,
        keys + otlp_colons(scope_text) as colons,
        entry is null or otlp_scope_unjudged(scope_text) as bad
    from scoped
)

select * from final
