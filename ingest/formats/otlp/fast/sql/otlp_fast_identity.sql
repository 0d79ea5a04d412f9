-- grain: one row per span of `otlp_fast_facts`: its agent and session resolved as
-- `otlp_spans.resolve_context` resolves them (the span's own, else its nearest ancestor's within the
-- same request, else the resource's service.name / the trace id), and the agent that spawned it.
-- A chain longer than 64 is a cycle (or hostile depth): `bad`, left to the per-record path.
with recursive chain as (
    select
        line_no, sk, trace_id, 0 as depth, parent_span_id as next_parent,
        own_agent, conversation_id as own_session, is_agent
    from otlp_fast_facts
    union all
    select
        c.line_no, c.sk, c.trace_id, c.depth + 1, p.parent_span_id,
        p.own_agent, p.conversation_id, p.is_agent
    from chain as c
    inner join otlp_fast_facts as p
        on p.line_no = c.line_no and p.trace_id = c.trace_id and p.span_id = c.next_parent
    where c.depth < 64
),

nearest as (
    select
        sk,
        arg_min(own_agent, depth) filter (where own_agent is not null) as agent,
        min(depth) filter (where own_agent is not null) as agent_depth,
        arg_min(own_session, depth) filter (where own_session is not null) as session,
        min(depth) filter (where own_session is not null) as session_depth,
        min(depth) filter (where depth >= 1 and is_agent) as spawner_depth,
        max(depth) as max_depth
    from chain
    group by sk
),

spawner as (
    select
        c.sk,
        arg_min(c.own_agent, c.depth) filter (where c.own_agent is not null) as parent_agent,
        arg_min(c.own_session, c.depth) filter (where c.own_session is not null) as parent_session
    from chain as c
    inner join nearest as n on c.sk = n.sk
    where c.depth >= n.spawner_depth
    group by c.sk
),

final as (
    select
        f.line_no,
        f.sk,
        coalesce(n.agent, f.service_name) as agent_id,
        case when n.agent_depth = 0 then 'span' when n.agent is not null then 'ancestor'
             else 'service.name' end as agent_source,
        coalesce(n.session, f.trace_id) as session_id,
        case when n.session_depth = 0 then 'span' when n.session is not null then 'ancestor'
             else 'trace_id' end as session_source,
        case when n.spawner_depth is not null then coalesce(s.parent_agent, f.service_name) end as parent_agent,
        case when n.spawner_depth is not null then coalesce(s.parent_session, f.trace_id) end as parent_session,
        n.max_depth >= 64 or coalesce(n.agent, f.service_name) is null as bad
    from otlp_fast_facts as f
    inner join nearest as n on f.sk = n.sk
    left join spawner as s on f.sk = s.sk
)

select * from final
