-- grain: one row per agent step (tool call, model response, reasoning) of a target session that comes
-- after a user prompt and has at least one word.
-- Goal drift of a step s on session day d, for an agent with baseline window B days:
--   anchor(s)     = words of the session's user prompts before s. It grows with every prompt, so a
--                   human who changes the task moves the anchor with it: that is not drift.
--   N, df(w)      = documents (events with words) of the agent's sessions on days d-B .. d-1, and
--                   how many of them contain w
--   idf(w)        = ln((1 + N) / (1 + df(w))) + 1   (scikit-learn's smoothed idf; no history: all 1)
--   relevance(s)  = sum of idf(w) over words of s found in anchor(s) / sum of idf(w) over words of s
--   goal_drift(s) = 1 - relevance(s)
-- Words the agent always uses weigh little; words it has not used lately weigh most.
with doc_words as materialized (
    select agent_key, session_key, session_day, step_index,
        is_target and event_type = 'user_prompt' as is_anchor_word,
        is_target and prompt_index > 0 and event_type in ('tool_call', 'llm_response', 'reasoning') as is_step_word,
        unnest(tokens) as word
    from int_events
    where tokens is not null
),

daily_docs as (
    select agent_key, session_day, count(*) as n_docs
    from int_events
    where tokens is not null
    group by agent_key, session_day
),

daily_words as (
    select agent_key, session_day, word, count(*) as n_docs_with_word
    from doc_words
    group by agent_key, session_day, word
),

baseline_docs as (
    select
        agent_key,
        session_day,
        coalesce(sum(n_docs) over (
            partition by agent_key order by session_day
            range between $baseline_days preceding and 1 preceding
        ), 0) as n_docs
    from daily_docs
),

baseline_words as (
    select
        agent_key,
        session_day,
        word,
        coalesce(sum(n_docs_with_word) over (
            partition by agent_key, word order by session_day
            range between $baseline_days preceding and 1 preceding
        ), 0) as n_docs_with_word
    from daily_words
),

idf as (
    select
        baseline_words.agent_key,
        baseline_words.session_day,
        baseline_words.word,
        -- a fixed-point weight sums exactly, so the result never depends on summation order
        cast(ln((1 + baseline_docs.n_docs) / (1 + baseline_words.n_docs_with_word)) + 1 as decimal(18, 12)) as idf
    from baseline_words
    join baseline_docs using (agent_key, session_day)
),

anchor as (
    select session_key, word, min(step_index) as first_prompt_step
    from doc_words
    where is_anchor_word
    group by session_key, word
),

scored as (
    select
        doc_words.session_key,
        doc_words.step_index,
        idf.idf,
        coalesce(anchor.first_prompt_step < doc_words.step_index, false) as in_anchor
    from doc_words
    join idf using (agent_key, session_day, word)
    left join anchor using (session_key, word)
    where doc_words.is_step_word
),

weighed as (
    select
        session_key,
        step_index,
        coalesce(sum(idf) filter (where in_anchor), 0) as anchored_weight,
        sum(idf) as total_weight
    from scored
    group by session_key, step_index
),

final as (
    select
        session_key,
        step_index,
        anchored_weight / total_weight as goal_relevance,
        1 - anchored_weight / total_weight as goal_drift
    from weighed
)

select * from final
