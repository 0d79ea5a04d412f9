-- grain: one row per non-blank line of the batch (table `otlp_batch`): the export request parsed once
-- into typed structs (null when the line is not JSON or holds an escape the counts below cannot see
-- through), with the number of quotes and colons of its raw text. Values whose JSON kind the policy
-- judges (integers, booleans, enums, times) are read as JSON text so their kind is not lost.
with lines as (
    select
        line_no,
        source_offset,
        line,
        otlp_odd_line(line) as odd
    from otlp_batch
),

final as (
    select
        line_no,
        source_offset,
        case when not odd then try(from_json(line, '{"resourceSpans": [{
            "resource": {"attributes": [{"key": "VARCHAR", "value": {
                "stringValue": "VARCHAR", "intValue": "JSON", "boolValue": "JSON"}}]},
            "scopeSpans": [{"scope": "JSON", "spans": [{
                "traceId": "VARCHAR", "spanId": "VARCHAR", "parentSpanId": "VARCHAR", "name": "VARCHAR",
                "kind": "JSON", "startTimeUnixNano": "JSON", "endTimeUnixNano": "JSON",
                "attributes": [{"key": "VARCHAR", "value": {
                    "stringValue": "VARCHAR", "intValue": "JSON", "boolValue": "JSON"}}],
                "status": "JSON", "flags": "JSON", "events": "JSON", "links": "JSON"}]}]}]}')) end as request,
        length(line) - length(replace(line, '"', '')) as raw_quotes,
        length(line) - length(replace(line, ':', '')) as raw_colons
    from lines
)

select * from final
