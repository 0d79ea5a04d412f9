-- grain: one row per trace of this batch (view `staged_raw`) holding an OTLP span whose session or
-- agent is a fallback (the trace id, the resource's service.name) and that has a parent: the spans
-- `identity_fixes` may reconcile. Cheap (no lake read), so a batch without orphans stops here.
create table orphan_traces as
with final as (
    select distinct trace_id
    from staged_raw
    where source_format in ('otlp_json', 'openinference')
        and trace_id is not null
        and parent_span_id is not null
        and (
            json_extract_string(attrs, '$.identity.session') = 'trace_id'
            or json_extract_string(attrs, '$.identity.agent') = 'service.name'
        )
)

select * from final
