-- grain: one row per OTLP span of this batch whose session or agent came from a fallback (the trace id,
-- the resource's service.name) because its identified ancestor was in another export request; the row
-- gives the nearest identified ancestor's session and agent, found in this batch or in the lake.
-- Inputs: views `staged_raw` (this batch) and `lake_events` (committed events near its dates), table
-- `orphan_traces` (the traces of this batch's spans with a fallback identity: only they are read).
-- One agent run is one session however the SDK batched its spans (a child span ends, and is exported,
-- before its parent). A fallback identity is recognizable from `attrs.identity` (set by otlp_spans);
-- a span already reconciled carries the flag instead.
create table identity_fixes as
with otlp_events as (
    select
        trace_id,
        span_id,
        parent_span_id,
        in_batch,
        case when json_extract_string(attrs, '$.identity.session') = 'trace_id'
                  and not list_contains(flags, 'session_reconciled') then null else session_id end as known_session,
        case when json_extract_string(attrs, '$.identity.agent') = 'service.name'
                  and not list_contains(flags, 'agent_reconciled') then null else agent_id end as known_agent
    from (
        select *, true as in_batch from staged_raw semi join orphan_traces using (trace_id)
        union all by name
        select *, false as in_batch from lake_events semi join orphan_traces using (trace_id)
    )
    where source_format in ('otlp_json', 'openinference')
),

spans as (
    select
        trace_id,
        span_id,
        any_value(parent_span_id) as parent_span_id,
        max(known_session) as session_id,
        max(known_agent) as agent_id
    from otlp_events
    group by trace_id, span_id
),

orphans as (
    select distinct trace_id, span_id, parent_span_id,
           known_session is null as session_fallback, known_agent is null as agent_fallback
    from otlp_events
    where in_batch and (known_session is null or known_agent is null) and parent_span_id is not null
),

ancestry as (
    with recursive walk(trace_id, span_id, ancestor_id, depth) as (
        select trace_id, span_id, parent_span_id, 1
        from orphans
        union all
        select walk.trace_id, walk.span_id, spans.parent_span_id, walk.depth + 1
        from walk
        join spans on spans.trace_id = walk.trace_id and spans.span_id = walk.ancestor_id
        where walk.depth < 64 and spans.parent_span_id is not null
    )
    select walk.trace_id, walk.span_id, walk.depth, spans.session_id, spans.agent_id
    from walk
    join spans on spans.trace_id = walk.trace_id and spans.span_id = walk.ancestor_id
),

nearest as (
    select
        trace_id,
        span_id,
        arg_min(session_id, depth) filter (where session_id is not null) as session_id,
        arg_min(agent_id, depth) filter (where agent_id is not null) as agent_id
    from ancestry
    group by trace_id, span_id
),

final as (
    select
        orphans.trace_id,
        orphans.span_id,
        case when orphans.session_fallback then nearest.session_id end as session_id,
        case when orphans.agent_fallback then nearest.agent_id end as agent_id
    from orphans
    join nearest using (trace_id, span_id)
    where (orphans.session_fallback and nearest.session_id is not null)
       or (orphans.agent_fallback and nearest.agent_id is not null)
)

select * from final
