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
