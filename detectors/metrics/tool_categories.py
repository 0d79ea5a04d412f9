"""What a tool call does, from the tool's name and its arguments.

Each category is a pair of RE2 patterns: one over the lowercased tool name (matching at the start
of a word of the name), one over the lowercased arguments (JSON text). A call can be several things
at once (`curl -X DELETE` is network and destructive); `tool_category` in `steps` is the first that
applies in `CATEGORY_PRECEDENCE`, and each category also has its own column (`is_destructive`, ...).

A *sink* is a call that sends, writes, pays, deletes or pushes something somewhere: the place where an
argument planted by a tool result (prompt injection) does harm. Write, destructive and privilege calls
are sinks, and so is any tool named like one (`SINK_NAME_PATTERN`); a plain network read (fetching a
URL a search returned) is not, but a network call carrying a payload (POST, `curl -d`) is a write.
"""

from __future__ import annotations

CATEGORY_PRECEDENCE = ("privilege", "destructive", "spawn", "network", "write", "read")

NAME_PATTERNS = {
    "privilege": r"iam|permission|grant|role|policy|sudo|chmod|chown|acl|access_key|credential|admin",
    "destructive": r"delete|remove|drop|destroy|wipe|purge|truncate|erase|revoke|terminate|rm_",
    "spawn": r"spawn|sub_?agent|delegate|handoff|task_create|launch_agent",
    "network": r"http|fetch|curl|web|browse|request|url|download|upload|post|send|email|mail|slack"
               r"|webhook|api_call|notify|message",
    "write": r"write|edit|create|update|insert|put|save|commit|push|patch|apply|deploy|mkdir|move"
             r"|rename|copy|append|transfer|pay",
    "read": r"read|get|list|search|query|cat|ls|grep|find|view|show|describe|diff|status|log|open",
}

ARGS_PATTERNS = {
    # commands count at a command position: `cat /etc/passwd` reads a file, `passwd bob` changes one
    "privilege": r"(?:^|[\s\x22';&|(])(?:sudo|chmod|chown|setfacl|usermod|passwd|visudo)\b"
                 r"|attach-(?:role|user|group)-policy"
                 r"|put-(?:role|user|group)-policy|create-access-key|add-iam-policy-binding"
                 r"|clusterrolebinding|\bgrant\s+[\w, ]+\s(?:on|to)\s|\b(?:create|alter)\s+(?:user|role)\b",
    "destructive": r"\brm\s+-[a-z]*[rf]|\bdrop\s+(?:table|database|schema|index)\b|\btruncate\b"
                   r"|\bdelete\s+from\s+[\w.\x60\x22]+\s*(?:;|\x22|'|$)|git\s+push\s+[^\x22]*(?:--force|-f\b)"
                   r"|git\s+reset\s+--hard|git\s+clean\s+-[a-z]*f|git\s+branch\s+-d\b|terraform\s+destroy"
                   r"|kubectl\s+delete|\bs3\s+(?:rm|rb)\b|\bmkfs\b|\bdd\s+if=|\bshred\b|--delete\b",
    "spawn": r"\b(?:claude|codex|gemini|aider)\s+(?:-p|exec|run)\b|\bnohup\b",
    "network": r"(?:^|[\s\x22';&|(])(?:curl|wget|nc|ncat|ssh|scp|rsync|ftp|telnet)\b|https?://",
    "write": r"\s>>?\s*\S|\btee\b|\bsed\s+-i|\binsert\s+into\b|\bdelete\s+from\b|\bupdate\s+\S+\s+set\b"
             r"|\bgit\s+(?:commit|push)\b|\b(?:mv|cp|mkdir|touch)\s"
             # a network call that carries a payload writes somewhere else
             r"|\x22method\x22\s*:\s*\x22(?:post|put|patch|delete)\x22"
             r"|\bcurl\b[^\x22]*\s(?:-d|--data\S*|--form|--upload-file|-x\s*(?:post|put|patch))\b",
    "read": r"\b(?:cat|less|head|tail|grep|ls|find|select)\b",
}

# Tool names that make a call a sink even when its category would not.
SINK_NAME_PATTERN = (
    r"send|post|write|pay|transfer|wire|refund|payout|charge|delete|push|upload|publish|share|notify"
    r"|reply|forward|submit|deploy"
)


def category_params() -> dict[str, object]:
    """Bound parameters of the tool classification in the SQL models."""
    params: dict[str, object] = {"category_precedence": list(CATEGORY_PRECEDENCE)}
    for name in CATEGORY_PRECEDENCE:
        params[f"{name}_name"] = _word_start(NAME_PATTERNS[name])
        params[f"{name}_args"] = ARGS_PATTERNS[name]
    params["sink_name"] = _word_start(SINK_NAME_PATTERN)
    return params


def _word_start(alternatives: str) -> str:
    # `read_file` and `readFile` are reads; `thread` and `spread` are not.
    return f"(?:^|[^a-z])(?:{alternatives})"


# -- one taxonomy across agents -------------------------------------------------------------------------
# The same act has a different tool name in every agent: Claude Code's `Bash`, Codex's `shell` /
# `exec_command` / `local_shell`, an OTel GenAI `execute_tool run_shell` span, a native `run_shell`.
# `TOOL_KINDS` names what a tool *is* from its lowercased name (first match in this order wins);
# `ACT_PATTERNS` names what a call *does* from its arguments (a call can do several things). The
# detectors (detectors/detect/sql/detect_steps.sql) turn both into columns the rules match on:
# `tool_kind` and one `is_<act>` column per act.

TOOL_KINDS = (
    ("mcp", r"^mcp__|^mcp[_.:/]"),
    ("spawn", r"^(?:task|agent|spawn_agent|delegate|dispatch_agent|handoff|launch_agent|create_subagent)$"
              r"|sub_?agent"),
    ("shell", r"^(?:bash|shell|sh|zsh|powershell|exec|exec_command|local_shell|local_shell_call|run_shell"
              r"|shell_command|run_terminal_cmd|terminal|execute_command|run_command|command_execution"
              r"|container\.exec|unified_exec|write_stdin|computer)$|shell|terminal"),
    ("web", r"^(?:webfetch|websearch|web_search|web_search_call|web_fetch|fetch|fetch_url|browse|browser"
            r"|http_request|http_get|search_web|google_search|bing_search|open_url|read_url|scrape)$"
            r"|^web|browse|fetch_url|http"),
    ("payment", r"pay|refund|transfer|payout|charge|wire|invoice"),
    ("message", r"send|email|mail|slack|message|reply|forward|notify|sms|tweet|post_to|comment|chat_post"),
    ("database", r"sql|query|statement|bigquery|snowflake|postgres|mysql|table|database|\bdb"),
    ("file_write", r"^(?:write|edit|multiedit|notebookedit|apply_patch|str_replace|str_replace_editor"
                   r"|create_file|write_file|edit_file|replace|insert|update_file|patch|file_change"
                   r"|delete_file|remove_file|move_file)$|write|edit|patch"),
    ("file_read", r"^(?:read|glob|grep|ls|view|cat|open|read_file|list_dir|list_files|find|search_files"
                  r"|view_file|file_search|codebase_search|notebookread|todowrite|todoread)$|read|list"),
    ("vcs", r"^git|github|gitlab|_pr$|pull_request"),
    ("cloud", r"aws|gcloud|azure|kubectl|terraform|helm|pulumi|k8s|docker"),
)

# Where untrusted text enters a session: the web, mail, tickets and issues, documents, MCP servers.
UNTRUSTED_SOURCE_PATTERN = (
    r"^mcp__|web|fetch|browse|http|search|scrape|url|inbox|email|mail|ticket|issue|document|download|rss"
    r"|slack_read|read_message|get_message|comment"
)

_SECRET_FILES = (
    r"(?:^|[^\w])\.env\b|\.aws/credentials|\.aws/config|\.ssh/|id_rsa|id_ed25519|id_ecdsa|\.pem\b|\.p12\b"
    r"|\.pfx\b|\.keystore|\.npmrc|\.pypirc|\.netrc|\.pgpass|\.git-credentials|\.docker/config\.json"
    r"|kubeconfig|\.kube/config|/etc/shadow|/etc/sudoers|secrets?\.(?:env|ya?ml|json|toml)|credentials\.json"
    r"|service[_-]?account.*\.json|\.vault-token|keychain|\.gnupg"
)
ACT_PATTERNS = {
    # reading secret material: secret files, secret stores, environment dumps, credential tables
    "secret_access": _SECRET_FILES
    + r"|vault\s+(?:kv\s+)?(?:get|read)|get-secret-value|secretsmanager|ssm\s+get-parameter|gcloud\s+secrets"
      r"|keyvault\s+secret\s+show|get\s+secrets?\b|\bprintenv\b|(?:^|[\s\x22;&|(])env\s*(?:\||;|$|\x22)"
      r"|api_key|apikey|access_key|private_key|password|passwd|\bsecret\b|credential|\btoken\b",
    # sending data out: uploads, POST bodies, copies to remote hosts
    "egress": r"\bcurl\b[^\x22]*\s(?:-d|--data\S*|-f|--form|-t|--upload-file|-x\s*(?:post|put))\b"
              r"|\bwget\b[^\x22]*--post|\x22method\x22\s*:\s*\x22(?:post|put|patch)\x22|\bscp\s|\brsync\s[^\x22]*:"
              r"|\b(?:nc|ncat|netcat)\s+[\w.-]+\s+\d+|\baws\s+s3\s+(?:cp|sync|mv)\s+\S+\s+s3://"
              r"|\bs3\s+(?:cp|sync)\s+/|\bgsutil\s+cp\s+\S+\s+gs://|\brclone\s+(?:copy|sync)|transfer\.sh|webhook",
    "install": r"\b(?:pip3?|pipx|uv\s+pip|uv|poetry|npm|pnpm|yarn|bun|gem|cargo|go|apt|apt-get|yum|dnf|apk|brew"
               r"|choco|conda|mamba)\s+(?:install|add|get)\b|\bnpx\s+(?:-y\s+)?[@\w]",
    "publish": r"\bnpm\s+publish|\btwine\s+upload|\bcargo\s+publish|\bpoetry\s+publish|\buv\s+publish"
               r"|\bgh\s+release\s+create|\bdocker\s+push|\bhelm\s+push|\bgem\s+push|\bgit\s+push\s+[^\x22]*--tags",
    "download_exec": r"\b(?:curl|wget)\b[^|\x22]*\|\s*(?:sudo\s+)?(?:ba|z|k|da)?sh\b"
                     r"|\b(?:curl|wget)\b[^|\x22]*\|\s*(?:sudo\s+)?python[23]?\b"
                     r"|(?:ba|z)?sh\s+<\(\s*(?:curl|wget)|\biex\s*\(|invoke-expression|downloadstring\(",
    # the agent's own configuration, permissions, hooks, guardrails, CI and policy
    "self_config": r"\.claude/(?:settings(?:\.local)?\.json|hooks|agents|commands)|claude\.md\b|agents\.md\b"
                   r"|\.codex/|codex/config\.toml|\.cursor/|\.cursorrules|\.mcp\.json|\.gemini/|\.aider"
                   r"|\.github/workflows/|\.gitlab-ci\.yml|jenkinsfile|\.circleci/|azure-pipelines|\.buildkite"
                   r"|\.pre-commit-config|\.git/hooks|codeowners|branch[_-]protection|guardrail|\.rego\b|policy\.(?:ya?ml|json)"
                   r"|permissions\.(?:ya?ml|json)|\bsettings\.json",
    "permission_bypass": r"bypasspermissions|dangerously[-_]skip[-_]permissions|dangerously[-_]bypass"
                         r"|--yolo\b|danger-full-access"
                         r"|\x22defaultmode\x5c?\x22\s*:\s*\x5c?\x22bypass|auto[_-]?approve\x5c?\x22?\s*[:=]\s*true",
    "extension_install": r"\b(?:claude|codex|gemini)\s+mcp\s+add\b|/plugin\s+(?:install|add)|plugin\s+marketplace\s+add"
                         r"|--install-extension|\bextensions?\s+install\b|\bmcp\s+install\b|\.vsix\b",
    "official_source": r"@modelcontextprotocol/|github\.com/(?:anthropics|openai|modelcontextprotocol)/"
                       r"|anthropic\.com|openai\.com|marketplace\.visualstudio\.com",
    "force_push": r"\bgit\s+push\b[^\x22]*(?:\s--force\b|\s-f\b|\s--force-with-lease\b|\s\+[\w/]+)"
                  r"|\x22force\x22\s*:\s*true",
    "protected_branch": r"\b(?:main|master|prod|production|release|trunk)\b",
    "infra_destroy": r"\bterraform\s+(?:destroy|apply\s[^\x22]*-destroy)|\bpulumi\s+destroy|\bcdk\s+destroy"
                     r"|\bkubectl\s+delete\s+(?:ns|namespace|deployment|statefulset|pvc|pv|node|cluster)"
                     r"|--replicas[=\s]0\b|\bhelm\s+(?:uninstall|delete)\b|\baws\s+[^\x22]*(?:terminate-instances"
                     r"|delete-db|delete-cluster|delete-bucket|delete-stack)|\bs3\s+(?:rb|rm)\s+s3://[^\x22]*--recursive"
                     r"|\bgcloud\s+[^\x22]*\sdelete\b|\baz\s+[^\x22]*\sdelete\b|\bdropdb\b|\bdrop\s+database\b",
    "privilege_escalation": r"(?:^|[\s\x22;&|(])sudo\s|\bsu\s+-|\bchmod\s+[0-7]*[4-7][0-7]{3}|\bchmod\s+[ug]?\+s"
                            r"|docker\s+run\b[^\x22]*(?:-v\s+/:/|--privileged)|\bchroot\b|\bnsenter\b"
                            r"|attach-(?:role|user|group)-policy|put-(?:role|user|group)-policy|create-access-key"
                            r"|administratoraccess|add-iam-policy-binding|clusterrolebinding|roles/owner"
                            r"|\bgrant\s+all\b|\busermod\s+-a?g\s*(?:sudo|wheel|docker|root)|visudo|/etc/sudoers",
    "disable_logging": r"\bhistory\s+-c|bash_history|zsh_history|unset\s+histfile|histfile=/dev/null"
                       r"|set\s+\+o\s+history|auditctl\s+-[de]\s*0|systemctl\s+(?:stop|disable|mask)\s+(?:auditd"
                       r"|rsyslog|syslog|journald|systemd-journald|falco|osqueryd|datadog|splunk|fluent|otel)"
                       r"|stop-logging|delete-trail|delete-log-group|setenforce\s+0|journalctl\s+--vacuum"
                       r"|(?:rm|truncate|shred)\s[^\x22]*/var/log|>\s*/var/log/|disable[_-](?:logging|telemetry|audit)",
    "persistence": r"\|\s*crontab\s+-|\bcrontab\s+[\w./]+\.(?:txt|cron)\b|/etc/cron|systemctl\s+enable"
                   r"|>>?\s*\S*(?:\.bashrc|\.zshrc|\.profile|authorized_keys)|launchctl\s+load|/etc/rc\.local"
                   r"|/etc/systemd/system/",
    "production": r"\bprod\b|\bproduction\b|\bprd\b|prod[-_.]|[-_.]prod\b",
    # a path outside the working tree: parent folders, the home folder, system folders, the root itself
    # (absolute project paths like /home/dev/app/build are not: agents write every path absolute)
    "outside_tree": r"(?:^|[\s\x22'=])(?:\.\./|~/?|/(?:etc|usr|bin|sbin|boot|root|lib|mnt|dev)"
                    r"(?:/|\s|\x22|$)|/\*?(?:\s|\x22|$))",
    # build output and caches: deleting them is routine
    "artifact_path": r"(?:^|[/\s\x22'])(?:build|dist|out|target|node_modules|__pycache__|\.pytest_cache|\.cache"
                     r"|\.mypy_cache|\.ruff_cache|coverage|htmlcov|\.next|\.nuxt|\.tox|\.venv|venv|tmp|\.tmp"
                     r"|\.gradle|bin/debug|obj|\.turbo|\.parcel-cache)(?:/|\s|\x22|$)",
    "source_path": r"(?:^|[/\s\x22'])(?:src|lib|app|tests?|spec|pkg|cmd|internal|\.git|docs|migrations)"
                   r"(?:/|\s|\x22|$)|\brm\s+-[a-z]*r[a-z]*\s+(?:\*|\.)(?:\s|\x22|$)",
    "destructive_sql": r"\bdrop\s+(?:table|schema|database|view)\b|\btruncate\b|\bdelete\s+from\s+[\w.\x60\x22]+"
                       r"\s*(?:;|\x22|'|$|where\s+[^\x22]*<)",
    "recursive_delete": r"\brm\s+-[a-z]*r|\brmdir\b|remove-item\b[^\x22]*-recurse|\bshutil\.rmtree"
                        r"|\bfind\b[^\x22]*-delete",
}

# Text (a tool result, an artifact the agent writes) that talks like the attacker, not the user.
TEXT_PATTERNS = {
    # a tool result addressed to the AI that reads it, telling it what to do
    "injection_text": r"(?:note|message|instructions?|notice)\s+(?:for|to)\s+(?:the\s+|any\s+|all\s+)?(?:ai|automated"
                      r"|llm|language\s+model)?\s*(?:[\w-]+\s+)?(?:assistants?|agents?|models?|bots?)\b"
                      r"|(?:^|\n|\.\s)(?:ai\s+)?assistant\s*:\s|\bai\s+(?:\w+\s+)?(?:assistants?|agents?)\s*[:,]"
                      r"|without\s+asking\s+(?:for\s+)?(?:confirmation|permission|the\s+user)"
                      r"|do\s+not\s+(?:mention|tell|reveal|disclose)\s+(?:this|the\s+user)"
                      r"|ignore\s+(?:all\s+)?(?:previous|prior|above)\s+instructions|you\s+must\s+(?:now\s+)?"
                      r"(?:send|post|forward|transfer|pay|run|execute|upload|email)",
    "credential_solicit": r"(?:enter|provide|send|share|paste|give|confirm|reply\s+with|verify|type|include)\s+"
                          r"(?:me\s+|us\s+)?(?:your\s+|the\s+|all\s+)?(?:\w+\s+)?(?:password|passcode|passphrase"
                          r"|api[\s_-]?keys?|access[\s_-]?tokens?|tokens?|credentials|2fa|otp|mfa\s+code|ssh\s+keys?"
                          r"|private\s+keys?|seed\s+phrase|recovery\s+phrase|secret\s+keys?|login)",
    "ransom": r"\bransom|\bbitcoin\b|\bbtc\b|\bmonero\b|\bxmr\b|\bbc1q[a-z0-9]{20,}|\bwallet\s+address"
              r"|your\s+(?:files|data|database|backups?)\s+(?:have|has)\s+been\s+(?:encrypted|copied|stolen|deleted|exfiltrated)"
              r"|to\s+(?:prevent|avoid)\s+(?:the\s+)?(?:publication|leak|release)|decrypt(?:ion)?\s+key"
              r"|restore_files|how_to_decrypt|readme_restore",
}


def taxonomy_params() -> dict[str, object]:
    """Bound parameters of the cross-agent taxonomy in the detector SQL."""
    params: dict[str, object] = {f"kind_{name}": pattern for name, pattern in TOOL_KINDS}
    params.update({f"act_{name}": pattern for name, pattern in ACT_PATTERNS.items()})
    params.update({f"text_{name}": pattern for name, pattern in TEXT_PATTERNS.items()})
    params["untrusted_source"] = UNTRUSTED_SOURCE_PATTERN
    return params
