-- grain: one row per session (detect_sessions): the explained risk score.
-- Inputs: scored_findings (session-level findings of every source, rule and verification alike),
-- anomaly_scores (anomaly.py), suppressions (agent_id, pattern, by, note, at: alerts closed as false
-- positives). A finding whose rule an analyst closed as a false positive for this agent counts
-- nothing and says so; the same for an anomaly whose leading feature was closed ('anomaly:<feature>'),
-- and for an anomaly score a labelled normal session (anomaly_score_before_feedback, feedback_*) lowered.
--   rule_score  = 1 - prod(1 - weight(level))   over the session's unsuppressed findings
--   risk_score  = 1 - (1 - rule_score) * (1 - $anomaly_weight * anomaly_score)
--   flagged     = risk_score >= $flag_threshold
with weighted as (
    select
        f.*,
        case f.level when 'critical' then $w_critical when 'high' then $w_high when 'medium' then $w_medium
            else $w_low end as weight,
        s.pattern is not null as is_suppressed,
        s."by" as suppressed_by,
        s.note as suppressed_note
    from scored_findings as f
    left join suppressions as s on s.agent_id = f.agent_id and s.pattern = f.rule_id
),

rule_parts as (
    select
        agent_id,
        session_id,
        1 - coalesce(product(1 - weight) filter (where not is_suppressed), 1) as rule_score,
        list({'kind': source, 'id': rule_id, 'level': level,
              'text': title || case when detail <> '' then ' — ' || detail else '' end,
              'evidence_event_ids': evidence_event_ids} order by weight desc, rule_id)
            filter (where not is_suppressed) as rule_reasons,
        list({'kind': 'feedback', 'id': rule_id, 'level': 'low',
              'text': 'not counted: ' || rule_id || ' was closed as a false positive for this agent by '
                  || coalesce(suppressed_by, '?') || coalesce(' (' || suppressed_note || ')', ''),
              'evidence_event_ids': evidence_event_ids} order by rule_id)
            filter (where is_suppressed) as feedback_reasons
    from weighted
    group by agent_id, session_id
),

anomaly as (
    select
        a.*,
        'anomaly:' || a.top_features[1].feature as pattern,
        s."by" as suppressed_by,
        s.note as suppressed_note,
        s.pattern is not null as is_suppressed
    from anomaly_scores as a
    left join suppressions as s on s.agent_id = a.agent_id and s.pattern = 'anomaly:' || a.top_features[1].feature
),

anomaly_reasons as (
    select
        agent_id,
        session_id,
        case when is_suppressed then 0 else anomaly_score end as counted_anomaly,
        case
            when is_suppressed and anomaly_score >= $anomaly_reason_min then [{'kind': 'feedback', 'id': pattern,
                'level': 'low', 'text': 'anomaly not counted: ' || pattern || ' was closed as a false positive for this agent by '
                    || coalesce(suppressed_by, '?') || coalesce(' (' || suppressed_note || ')', ''),
                'evidence_event_ids': []::varchar[]}]
            when anomaly_score >= $anomaly_reason_min then [{'kind': 'anomaly', 'id': pattern,
                'level': case when anomaly_score >= 0.8 then 'high' when anomaly_score >= 0.5 then 'medium' else 'low' end,
                'text': 'unusual for this agent (anomaly ' || printf('%.2f', anomaly_score) || ', model ' || anomaly_model
                    || '): ' || array_to_string(list_transform(top_features, lambda t: t.feature || ' '
                    || printf('%.3g', t.value) || ' vs normal ' || printf('%.3g', t.baseline) || ' (z '
                    || printf('%.1f', t.z) || ')'), '; '),
                'evidence_event_ids': []::varchar[]}]
            else []
        end as reasons,
        case when feedback_session_id is not null then
            [{'kind': 'feedback', 'id': 'anomaly:labelled-normal', 'level': 'low',
              'text': 'anomaly ' || printf('%.2f', anomaly_score_before_feedback) || ' lowered to '
                  || printf('%.2f', anomaly_score) || ': judged against session ' || feedback_session_id
                  || ', a labelled normal example (closed as a false positive for this agent by '
                  || coalesce(feedback_by, '?') || coalesce(': ' || feedback_note, '') || ')',
              'evidence_event_ids': []::varchar[]}]
        else [] end as labelled_reasons
    from anomaly
),

scored as (
    select
        sessions.agent_id,
        sessions.session_id,
        coalesce(anomaly.anomaly_score, 0) as anomaly_score,
        anomaly.anomaly_model,
        coalesce(rule_parts.rule_score, 0) as rule_score,
        1 - (1 - coalesce(rule_parts.rule_score, 0)) * (1 - $anomaly_weight * coalesce(anomaly_reasons.counted_anomaly, 0))
            as risk_score,
        list_concat(coalesce(rule_parts.rule_reasons, []), coalesce(anomaly_reasons.reasons, []),
            coalesce(rule_parts.feedback_reasons, []), coalesce(anomaly_reasons.labelled_reasons, [])) as reasons,
        coalesce(anomaly.top_features, []) as top_features
    from detect_sessions as sessions
    left join rule_parts using (agent_id, session_id)
    left join anomaly using (agent_id, session_id)
    left join anomaly_reasons using (agent_id, session_id)
),

final as (
    select
        agent_id,
        session_id,
        anomaly_score,
        round(risk_score, 6) as risk_score,
        risk_score >= $flag_threshold as flagged,
        rule_score,
        anomaly_model,
        reasons,
        top_features
    from scored
)

select * from final
