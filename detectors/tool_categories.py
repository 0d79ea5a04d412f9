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
    params: dict[str, object] = {}
    for name in CATEGORY_PRECEDENCE:
        params[f"{name}_name"] = _word_start(NAME_PATTERNS[name])
        params[f"{name}_args"] = ARGS_PATTERNS[name]
    params["sink_name"] = _word_start(SINK_NAME_PATTERN)
    return params


def _word_start(alternatives: str) -> str:
    # `read_file` and `readFile` are reads; `thread` and `spread` are not.
    return f"(?:^|[^a-z])(?:{alternatives})"
