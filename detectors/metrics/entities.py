"""What a step is about: its words (for goal drift) and the entities it names (for scope and flow).

The patterns are RE2 (DuckDB's regex engine: no look-behind), passed to the SQL models as bound
parameters so every model that needs them uses the same ones. Entities are found in one pass with
one alternation (`ENTITY_PATTERN`, leftmost match wins, so the order of the parts matters); each match
is then classified by cheap prefix tests (the `entity_of` macro in `sql/build/macros.sql`). Kinds and values:

| kind    | found in                                   | value                                   |
|---------|--------------------------------------------|-----------------------------------------|
| host    | `https://host/...`, `ssh://...`            | host, lowercased                        |
| repo    | github/gitlab/bitbucket URLs, `git@h:o/r`, `"repo": "o/r"` | `owner/name`, lowercased, no `.git` |
| cloud   | `s3://`, `gs://`, `az://`, `arn:aws...`, `projects/p/...` | the URI / ARN as written        |
| email   | `name@domain.tld`                          | lowercased                              |
| account | IBAN (`DE89 3704 ...`), `account: 12345678` | IBAN without spaces, or the digits     |
| table   | `from/into/update/join/table X` in SQL-looking text | table name, lowercased         |
| branch  | `"branch": "x"`, `git push origin x`       | branch name                             |
| path    | absolute, `~/` or `./`/`../` paths          | the path, trailing dots stripped        |
"""

from __future__ import annotations

# The inventory's scope kinds (agents.yaml `scope:` keys) and the entity kind each one constrains.
SCOPE_KIND_OF_ENTITY = {
    "repo": "repos",
    "path": "paths",
    "host": "hosts",
    "table": "tables",
    "email": "emails",
    "account": "accounts",
    "cloud": "cloud",
}

_PARTS = (
    r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>\\)\]}]+",  # any URI: web, s3://, gs://, ssh://
    r"arn:aws[a-z-]*:[^\s\"',]+",  # AWS ARN
    r"[\w.-]+@[\w.-]+:[\w.-]+/[\w.-]+",  # git over ssh (before e-mail: same start)
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",  # e-mail
    r"projects/[a-z][a-z0-9-]{4,28}[a-z0-9](?:/[A-Za-z]+/[\w.-]+)*",  # GCP resource name
    r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b",  # IBAN
    r"(?i:\b(?:account|acct)(?:[ _-]?(?:no|number|id))?[\"']?\s*[:=#]?\s*[\"']?)[0-9][0-9-]{5,20}",
    r"(?i:\b(?:from|into|update|join|table|truncate)\s+(?:if\s+(?:not\s+)?exists\s+)?)[A-Za-z_][\w.]*",
    r"\"(?:repo|repository|branch)\"\s*:\s*\"[^\"]+\"",  # JSON argument naming a repo or branch
    r"(?i:\bgit\s+push\s+(?:-[-\w]+\s+)*)[\w.-]+\s+[\w./-]+",  # git push <remote> <branch>
    r"(?:^|[\s\"'=(\[,])(?:~|\.{1,2})?/[\w.@+-]+(?:/[\w.@+-]*)*",  # path (with the char before it)
)
ENTITY_PATTERN = "|".join(_PARTS)

# Text counts as SQL (so `from X` names a table) only if it carries one of these statements.
SQL_TEXT_PATTERN = r"(?i)\b(?:select|insert|update|delete|drop|truncate|alter|create|merge)\b"
# Words that follow `from`/`into` in prose more often than table names do.
NOT_TABLES = ("the", "a", "an", "this", "that", "these", "those", "my", "your", "our", "their", "it",
              "all", "here", "there", "now", "where", "which", "what", "select", "values", "set")

# Words: runs of two or more letters or digits, lowercased; these are dropped.
WORD_PATTERN = r"[\p{L}\p{N}]{2,}"
STOP_WORDS = (
    "the", "and", "for", "with", "this", "that", "from", "into", "then", "than", "are", "was", "were",
    "you", "your", "our", "its", "it", "is", "be", "to", "of", "in", "on", "at", "an", "or", "as",
    "by", "if", "so", "do", "no", "not", "me", "we", "us", "please", "can", "will", "should", "would",
    "could", "now", "all", "any", "some", "also", "just", "ok", "okay", "thanks", "there", "here",
)
# JSON object keys inside tool arguments say how a tool is called, not what it is about.
JSON_KEY_PATTERN = r"\"[^\"]*\"\s*:"


def entity_params() -> dict[str, object]:
    """Bound parameters of the entity and word extraction in the SQL models."""
    return {
        "entity_pattern": ENTITY_PATTERN,
        "sql_text_pattern": SQL_TEXT_PATTERN,
        "not_tables": list(NOT_TABLES),
        "word_pattern": WORD_PATTERN,
        "stop_words": list(STOP_WORDS),
        "json_key_pattern": JSON_KEY_PATTERN,
    }
