-- grain: one row per non-blank line of the batch (table `otlp_batch`): the logs export request parsed
-- once into typed structs (null when the line is not JSON or holds an escape the counts cannot see
-- through), with the number of quotes and colons of its raw text. Values whose JSON kind the policy
-- judges (integers, booleans, doubles, times) are read as JSON text so their kind is not lost.
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
        case when not odd then try(from_json(line, '{"resourceLogs": [{
            "resource": {"attributes": [{"key": "VARCHAR", "value": {
                "stringValue": "VARCHAR", "intValue": "JSON", "boolValue": "JSON", "doubleValue": "JSON"}}]},
            "scopeLogs": [{"scope": "JSON", "logRecords": [{
                "timeUnixNano": "JSON", "observedTimeUnixNano": "JSON", "severityNumber": "JSON",
                "severityText": "VARCHAR", "body": {"stringValue": "VARCHAR"}, "eventName": "VARCHAR",
                "traceId": "VARCHAR", "spanId": "VARCHAR",
                "attributes": [{"key": "VARCHAR", "value": {
                    "stringValue": "VARCHAR", "intValue": "JSON", "boolValue": "JSON", "doubleValue": "JSON"}}]
            }]}]}]}')) end as request,
        otlp_quotes(line) as raw_quotes,
        otlp_colons(line) as raw_colons
    from lines
)

select * from final
