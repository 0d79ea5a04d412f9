-- Scalar helpers shared by the models (and usable in ad-hoc queries over `steps`).

-- entity_of(match): the {kind, value} of one match of entities.ENTITY_PATTERN; the tests below run
-- in order and mirror the order of that pattern's parts (a path match carries the character before it).
create or replace macro entity_of(m) as (
    case
        when regexp_matches(m, '^[\s"''=(\[,]?(?:~|\.{1,2})?/')
            then {'kind': 'path', 'value': rtrim(regexp_replace(m, '^[\s"''=(\[,]', ''), '.')}
        when regexp_matches(m, '^(?i:s3|gs|az|gcs|abfss?|wasbs?)://') or starts_with(m, 'arn:')
            or starts_with(m, 'projects/')
            then {'kind': 'cloud', 'value': rtrim(m, '.,;')}
        when regexp_matches(m, '^(?i:https?|ssh|git)://(?:[^/@]*@)?(?i:www\.)?(?i:github\.com|gitlab\.com|bitbucket\.org)/[^/]+/[^/?#]+')
            then {'kind': 'repo', 'value': lower(regexp_replace(
                regexp_extract(m, '://[^/]+/([^/]+/[^/?#]+)', 1), '\.git$', ''))}
        when contains(m, '://')
            then {'kind': 'host', 'value': lower(regexp_extract(m, '://(?:[^/@]*@)?([^/:?#]+)', 1))}
        when regexp_matches(m, '^[\w.-]+@[\w.-]+:')
            then {'kind': 'repo', 'value': lower(regexp_replace(regexp_extract(m, ':(.*)$', 1), '\.git$', ''))}
        when contains(m, '@')
            then {'kind': 'email', 'value': lower(m)}
        when starts_with(m, '"branch"')
            then {'kind': 'branch', 'value': regexp_extract(m, ':\s*"([^"]+)"', 1)}
        when starts_with(m, '"')
            then {'kind': 'repo', 'value': lower(regexp_replace(regexp_extract(m, ':\s*"([^"]+)"', 1), '\.git$', ''))}
        when regexp_matches(m, '^(?i:git)\s')
            then {'kind': 'branch', 'value': regexp_extract(m, '(\S+)$', 1)}
        when regexp_matches(m, '^[A-Z]{2}[0-9]{2}')
            then {'kind': 'account', 'value': replace(m, ' ', '')}
        when regexp_matches(m, '^(?i:acc)')
            then {'kind': 'account', 'value': replace(regexp_extract(m, '([0-9][0-9-]*)$', 1), '-', '')}
        else {'kind': 'table', 'value': lower(regexp_extract(m, '([A-Za-z_][\w.]*)$', 1))}
    end
);

-- A value with a `..` segment (`/workspace/app/../../etc/shadow`) escapes any folder glob it seems
-- to match, so it is never in scope.
create or replace macro is_dot_dot_path(value) as regexp_matches(value, '(^|/)\.\.(/|$)');

-- A tool call of one category: its tool name or its (lowercased) arguments match the category's
-- patterns (detectors/metrics/tool_categories.py).
create or replace macro is_call_of(event_type, tool_name_lower, tool_args_lower, name_pattern, args_pattern) as
    event_type = 'tool_call'
    and (regexp_matches(tool_name_lower, name_pattern) or regexp_matches(tool_args_lower, args_pattern));
