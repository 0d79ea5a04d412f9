-- grain: one row per line of a native JSON Lines batch
-- (table `batch`: line_no, source_offset, line, wrong_kind). Returns each line's keys and the text of every
-- canonical field, parsed with one multi-path call (one parse for all fields, not one per field); both are
-- null for a line that is not valid JSON (`try`, rather than a `json_valid` filter that parses it once more);
-- `ingest.formats.native.fast` judges and builds the columns in polars, because referencing list elements
-- here makes DuckDB re-evaluate the list once per reference.
-- $1 source_file (for the stable event id of lines that carry none), $2 JSON paths of the fields
select
    line_no,
    source_offset,
    wrong_kind,
    try(json_keys(line)) as keys,
    try(json_extract_string(line, $2)) as texts,
    md5($1 || chr(31) || source_offset::varchar || chr(31) || '0' || chr(31) || line) as content_id
from batch
