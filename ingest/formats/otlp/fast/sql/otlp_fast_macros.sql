-- Helpers of the bulk OTLP decoder (`otlp_fast`): counts of the characters that make JSON structure,
-- and a JSON string literal written exactly as orjson writes it (the per-record path's serializer):
-- DuckDB spells some control characters' escapes in upper case (\u001B), orjson in lower case.
create or replace temp macro otlp_quotes(s) as coalesce(length(s) - length(replace(s, '"', '')), 0);
create or replace temp macro otlp_colons(s) as coalesce(length(s) - length(replace(s, ':', '')), 0);
create or replace temp macro otlp_json_text(s) as
    case
        when not contains(to_json(s)::varchar, '\u00') then to_json(s)::varchar
        -- with a backslash in the text, an upper-case escape could be literal text: not judged here
        when contains(s, '\') then null
        else replace(replace(replace(replace(replace(replace(replace(replace(replace(to_json(s)::varchar,
            '\u000B', '\u000b'), '\u000E', '\u000e'), '\u000F', '\u000f'), '\u001A', '\u001a'),
            '\u001B', '\u001b'), '\u001C', '\u001c'), '\u001D', '\u001d'), '\u001E', '\u001e'),
            '\u001F', '\u001f')
    end;
-- Python's str.strip(): every character for which str.isspace() is true.
create or replace temp macro otlp_strip(s) as trim(s, chr(9) || chr(10) || chr(11) || chr(12) || chr(13)
    || chr(28) || chr(29) || chr(30) || chr(31) || chr(32) || chr(133) || chr(160) || chr(5760) || chr(8192)
    || chr(8193) || chr(8194) || chr(8195) || chr(8196) || chr(8197) || chr(8198) || chr(8199) || chr(8200)
    || chr(8201) || chr(8202) || chr(8232) || chr(8233) || chr(8239) || chr(8287) || chr(12288));
-- The quotes a JSON string (possibly absent) takes in raw text: its own two and the escaped ones.
create or replace temp macro otlp_string_quotes(s) as case when s is null then 0 else 2 + otlp_quotes(s) end;
-- A line the counts cannot see through: \u0022 and \u003a hide a quote or a colon; lone surrogates
-- and a BOM are per-record policy. Any of them sends the line to the per-record path.
create or replace temp macro otlp_odd_line(line) as contains(line, 'u0022') or contains(line, 'u003a')
    or contains(line, 'u003A') or contains(line, '\ud') or contains(line, '\uD') or starts_with(line, chr(65279));
-- A scope (JSON text, possibly absent) the bulk path does not judge: anything but string `name` /
-- `version`, repeated keys, or an upper-case escape orjson would write otherwise.
create or replace temp macro otlp_scope_unjudged(scope_text) as coalesce(
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
    ), true);
-- A count as `log_events._int` reads it from an attribute: an int, or a string of digits.
create or replace temp macro otlp_count(kind, int_value, string_value) as
    case when kind = 'int' then int_value when kind = 'string' then try_cast(string_value as bigint) end;
