-- grain: one row per step (the `steps` view) of the sessions being detected: the step with what the
-- cross-agent taxonomy (detectors/metrics/tool_categories.py) says about it. Rules match on these columns.
--   tool_kind        what the tool is (shell, web, mcp, file_read, ...) from its name; a tool result
--                    carries the kind and name of the call it answers (call_tool_name)
--   is_<act>         what the call does, from its lowercased arguments (secret_access, egress, ...)
--   is_untrusted_source  a call whose result is text from outside (web, mail, tickets, MCP, ...)
--   is_injection_text / is_credential_solicit / is_ransom_text  what a text says (results, writes)
--   is_injection_flag    ingest flagged injection phrasing in the event (flags named injection*)
--   permission_mode      the agent's permission mode recorded on the event (stg_events)
--   identical_result_count  calls in the session with the same tool, arguments and result text
--   untrusted_kinds  kinds of the call's untrusted argument entities (metrics' untrusted-argument flow)
--   untrusted_new_kinds  the same, for entities the agent never named in a call of an earlier session
--                    (judged only when the agent has sessions in its baseline window)
--   is_out_of_scope_call  the call names a resource outside the agent's declared scope
with calls as (
    select agent_id, session_id, tool_call_id, any_value(tool_name) as call_tool_name
    from steps
    where event_type = 'tool_call' and tool_call_id is not null
    group by agent_id, session_id, tool_call_id
),

results as (
    select agent_id, session_id, tool_call_id, any_value(event_text) as result_text
    from steps
    where event_type = 'tool_result' and tool_call_id is not null
    group by agent_id, session_id, tool_call_id
),

modes as (
    select agent_id, session_id, event_id, permission_mode
    from stg_events
    where permission_mode is not null
),

named as (
    select
        -- every column of `steps` but its word list (the widest column, and no rule's business)
        steps.* exclude (tokens),
        coalesce(steps.tool_name, calls.call_tool_name) as call_tool_name,
        lower(coalesce(steps.tool_name, calls.call_tool_name, '')) as name_lower,
        lower(coalesce(steps.tool_args, '')) as args_lower,
        lower(coalesce(steps.event_text, '')) as text_lower,
        results.result_text,
        modes.permission_mode
    from steps
    left join calls using (agent_id, session_id, tool_call_id)
    left join results on steps.event_type = 'tool_call' and results.agent_id = steps.agent_id
        and results.session_id = steps.session_id and results.tool_call_id = steps.tool_call_id
    left join modes using (agent_id, session_id, event_id)
),

kinds as (
    select
        *,
        case
            when name_lower = '' then null
            when regexp_matches(name_lower, $kind_mcp) then 'mcp'
            when regexp_matches(name_lower, $kind_spawn) then 'spawn'
            when regexp_matches(name_lower, $kind_shell) then 'shell'
            when regexp_matches(name_lower, $kind_web) then 'web'
            when regexp_matches(name_lower, $kind_payment) then 'payment'
            when regexp_matches(name_lower, $kind_message) then 'message'
            when regexp_matches(name_lower, $kind_database) then 'database'
            when regexp_matches(name_lower, $kind_file_write) then 'file_write'
            when regexp_matches(name_lower, $kind_file_read) then 'file_read'
            when regexp_matches(name_lower, $kind_vcs) then 'vcs'
            when regexp_matches(name_lower, $kind_cloud) then 'cloud'
            else 'other'
        end as tool_kind,
        event_type = 'tool_call' as is_call
    from named
),

acts as (
    select
        *,
        is_call and tool_kind not in ('file_write', 'message', 'payment', 'vcs', 'web')
            and regexp_matches(args_lower, $act_secret_access) as is_secret_access,
        is_call and (regexp_matches(args_lower, $act_egress) or (is_network and is_write)
            or regexp_matches(name_lower, 'upload|exfil')) as is_egress,
        is_call and regexp_matches(args_lower, $act_install) as is_install,
        is_call and (regexp_matches(args_lower, $act_publish) or regexp_matches(name_lower, 'publish|release'))
            as is_publish,
        is_call and regexp_matches(args_lower, $act_download_exec) as is_download_exec,
        is_call and (is_write or tool_kind = 'file_write') and regexp_matches(args_lower, $act_self_config)
            as is_self_config_write,
        regexp_matches(args_lower, $act_permission_bypass)
            or lower(coalesce(permission_mode, '')) in ('bypasspermissions', 'danger-full-access')
            as is_permission_bypass,
        is_call and regexp_matches(args_lower, $act_extension_install) as is_extension_install,
        regexp_matches(args_lower, $act_official_source) as is_official_source,
        is_call and (regexp_matches(args_lower, $act_force_push)
            and (regexp_matches(name_lower, 'push') or regexp_matches(args_lower, 'git\s+push'))) as is_force_push,
        regexp_matches(args_lower, $act_protected_branch) as names_protected_branch,
        is_call and regexp_matches(args_lower, $act_infra_destroy) as is_infra_destroy,
        is_call and (regexp_matches(args_lower, $act_privilege_escalation)) as is_privilege_escalation,
        is_call and regexp_matches(args_lower, $act_disable_logging) as is_disable_logging,
        is_call and regexp_matches(args_lower, $act_persistence) as is_persistence,
        regexp_matches(args_lower, $act_production) as names_production,
        regexp_matches(args_lower, $act_outside_tree) as names_outside_tree,
        regexp_matches(args_lower, $act_artifact_path) as names_artifact_path,
        regexp_matches(args_lower, $act_source_path) as names_source_path,
        is_call and regexp_matches(args_lower, $act_destructive_sql) as is_destructive_sql,
        is_call and (regexp_matches(args_lower, $act_recursive_delete)) as is_recursive_delete,
        is_call and (tool_kind in ('web', 'mcp') or regexp_matches(name_lower, $untrusted_source)) as is_untrusted_source,
        event_type = 'tool_result' and (tool_kind in ('web', 'mcp') or regexp_matches(name_lower, $untrusted_source))
            as is_untrusted_result,
        -- CASE, not AND: the long texts are matched only on the rows whose type can carry the pattern
        case when event_type in ('tool_call', 'llm_response')
            then regexp_matches(text_lower || ' ' || args_lower, $text_ransom) else false end as is_ransom_text,
        case when event_type = 'tool_result'
            then regexp_matches(text_lower, $text_injection_text) else false end as is_injection_text,
        case when event_type = 'tool_result'
            then regexp_matches(text_lower, $text_credential_solicit) else false end as is_credential_solicit,
        len(list_filter(flags, lambda f: starts_with(f, 'injection'))) > 0 as is_injection_flag,
        is_call and (tool_kind in ('payment', 'message') or is_sink) as is_outbound
    from kinds
),

-- the side tables below read `steps` (and the small call and result lookups), not `acts`: `acts` then
-- has one consumer and streams into the table instead of being materialized whole (every step with
-- its lowered texts), which spilled and made the model superlinear past ~2M steps
repeats as (
    select agent_id, session_id, steps.event_id,
        count(*) over (partition by agent_id, session_id, coalesce(steps.tool_name, calls.call_tool_name),
            lower(regexp_replace(coalesce(steps.tool_args, ''), '\s+', '', 'g')), coalesce(results.result_text, '')
        ) as identical_result_count
    from steps
    left join calls using (agent_id, session_id, tool_call_id)
    left join results using (agent_id, session_id, tool_call_id)
    where steps.event_type = 'tool_call'
),

-- when each agent first named each entity in a tool call (sessions ordered by start): an untrusted
-- entity the agent never used before is a new payee, recipient or host chosen by a tool result
entity_uses as (
    select steps.agent_id, steps.session_id, sessions.started_at, r.kind || ':' || r.value as entity
    from steps
    join sessions using (agent_id, session_id)
    cross join unnest(steps.resources) as u(r)
    where steps.event_type = 'tool_call'
),

first_uses as (
    select agent_id, entity, min(started_at) as first_used_at
    from entity_uses
    group by agent_id, entity
),

new_untrusted as (
    select steps.agent_id, steps.session_id, steps.event_id,
        list_distinct(list(e.kind)) as untrusted_new_kinds
    from steps
    cross join unnest(steps.untrusted_entities) as u(e)
    join sessions using (agent_id, session_id)
    join first_uses on first_uses.agent_id = steps.agent_id and first_uses.entity = e.kind || ':' || e.value
    where first_uses.first_used_at >= sessions.started_at
        and sessions.baseline_session_count > 0  -- no history, no verdict on what is new
    group by all
),

scoped as (
    select agent_id, session_id, out_of_scope_resources
    from sessions
    where len(out_of_scope_resources) > 0
),

final as (
    select acts.* exclude (name_lower, args_lower, text_lower, is_call),
        coalesce(repeats.identical_result_count, 0) as identical_result_count,
        list_distinct(list_transform(acts.untrusted_entities, lambda e: e.kind)) as untrusted_kinds,
        coalesce(new_untrusted.untrusted_new_kinds, []) as untrusted_new_kinds,
        coalesce(len(list_intersect(list_transform(acts.resources, lambda r: r.kind || ':' || r.value),
            scoped.out_of_scope_resources)) > 0, false) as is_out_of_scope_call
    from acts
    left join repeats using (agent_id, session_id, event_id)
    left join scoped using (agent_id, session_id)
    left join new_untrusted using (agent_id, session_id, event_id)
)

select * from final
