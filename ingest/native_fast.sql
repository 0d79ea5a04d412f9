-- grain: one row per line of a native JSON Lines batch that is a JSON object
-- (table `batch`: line_no, source_offset, line). Returns each line's keys, the JSON kind of every
-- canonical field and its text, parsed with multi-path JSON functions (one parse per list, not one
-- per field); `ingest.native_fast` judges and builds the columns in polars, because referencing
-- list elements here makes DuckDB re-evaluate the lists once per reference.
-- $1 source_file (for the stable event id of lines that carry none)
select
    line_no,
    source_offset,
    json_keys(line) as keys,
    json_type(line, [
        '$.event_id', '$.ts', '$.agent_id', '$.session_id', '$.parent_session_id', '$.trace_id',
        '$.span_id', '$.parent_span_id', '$.seq', '$.event_type', '$.actor', '$.model', '$.tool_name',
        '$.tool_call_id', '$.tool_args', '$.text', '$.input_tokens', '$.output_tokens', '$.status', '$.attrs'
    ]) as kinds,
    json_extract_string(line, [
        '$.event_id', '$.ts', '$.agent_id', '$.session_id', '$.parent_session_id', '$.trace_id',
        '$.span_id', '$.parent_span_id', '$.seq', '$.event_type', '$.actor', '$.model', '$.tool_name',
        '$.tool_call_id', '$.tool_args', '$.text', '$.input_tokens', '$.output_tokens', '$.status', '$.attrs'
    ]) as texts,
    md5($1 || chr(31) || source_offset::varchar || chr(31) || '0' || chr(31) || line) as content_id
from batch
where json_valid(line)
    and json_type(line) = 'OBJECT'
    and not contains(line, 'NaN')
    and not contains(line, 'Infinity')
