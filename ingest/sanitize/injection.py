"""The injection signal: text an agent reads (a tool result, a fetched page, a mail) that talks to the
assistant instead of to a person and tells it to act, to hide what it does or to skip confirmation.

A text fires when it *addresses an AI* (a note for the assistant, a vocative, a role marker such as
`Assistant:` or `<|im_start|>system` at a line start, "if you are an AI ...") and in the same text
tells it to *act* (an imperative), to *conceal* ("do not mention this note") or to *skip confirmation*
("pre-approved", "without asking"); or when it carries an *override* ("ignore previous instructions",
"your new task is"). Hidden markup (an HTML comment, `display:none`, zero-size text) around an address
is evidence too. Each part alone is everyday text: mail asks people to act, docs say "assistant".

Vectorized: polars gates the rows with a literal scan, runs each part's regex on the gated rows, and
finds the first span of each part in the rows that fire. `injection_spans` is what detectors call.
"""

from __future__ import annotations

import re

import polars as pl

# What an AI is called when text addresses it.
_AI = (
    r"(?:ai|a\.i\.|llms?|language models?|chat ?bots?|chatgpt|gpt(?:-[0-9o.]+)?|claude|copilot|gemini|models?|agents?"
    r"|assistants?|bots?|crawlers?)"
)
_NAMES = r"(?:assistant|system|ai|agent|copilot|claude|gemini|chatgpt|gpt|llm|model)"
# Before a vocative: anything but a letter or digit (a zero-width space, a quote, a bracket, a line break).
_LEAD = r"(?:^|[^a-z0-9_])"
ADDRESS = (
    # "Note for the automated assistant", "instructions for AI assistants", "message for the email assistant"
    r"(?:note|message|instructions?|reminder|directive|order|request|task)s?\s+(?:is\s+|are\s+)?(?:for|to)\s+"
    r"(?:the\s+|any\s+|all\s+|an?\s+)?"
    r"(?:[a-z\-]+\s+){0,2}?" + _AI + r"\b",
    # "Dear AI assistant", "Hello assistant!", "Attention LLM:", "To the AI reading this"
    _LEAD + r"\s*(?:dear|hey|hi|hello|attention|attn)\s+(?:the\s+)?(?:[a-z\-]+[,\s]+)?" + _AI + r"\b",
    # "for the assistant:", "to the AI that manages this inbox:"
    r"\b(?:for|to)\s+(?:the\s+|any\s+|all\s+)?(?:[a-z\-]+\s+)?" + _AI + r"\s*:",
    r"(?:^|[\n\r]|\\n|[.!?]\s)\s*to\s+(?:the|any|all)\s+(?:[a-z\-]+\s+)?" + _AI + r"\b",
    # "If you are an AI model", "When an AI assistant reads this", "If an AI agent is executing this"
    r"if\s+you\s+are\s+an?\s+(?:[a-z\-]+\s+)?" + _AI + r"\b",
    r"(?:if|when)\s+an?\s+(?:ai|llm|automated)\s+(?:[a-z\-]+\s+)?(?:agent|assistant|model|system)s?\s+(?:is\s+)?"
    r"(?:read|process|summari[sz]|execut|visit|crawl)",
    # "AI agents visiting this page:", "AI models processing this document must", "AI agents and crawlers:"
    r"\b(?:ai|llm|automated|language|coding|autonomous)\s+(?:[a-z\-]+\s+)?(?:agents?|assistants?|models?|crawlers?|reviewers?)"
    r"(?:\s+and\s+[a-z]+)?\s*(?:[,:]|[a-z]+ing\s+(?:this|these|the)\b|must|should)",
    r"@ai[-_]?(?:assistant|agent)\b",
    # "LLM instructions:", "AI note:"
    r"\b(?:ai|llm|model|agent|assistant)\s+(?:instructions?|directives?|notes?|tasks?)\s*:",
)
# A role marker: a chat role at a line start (maybe after a comment marker or a quote) whose line goes
# on to steer (`Assistant: … Schedule it …`; a ticket's `Agent: Jamie (Tier 2)` header does not), or a
# chat-template token anywhere.
_ROLE_START = (
    r"(?:^|[\n\r]|\\n|<!--|\?>|<\?php|//|/\*|#|>|\"|')[ \t>#/*\-]*"
    + _NAMES
    + r"(?:\s+message)?\s*[,:\-\u2013\u2014]"
)
ROLE_TOKENS = r"<\|im_start\|>|<\|system\|>|\[inst\]|<<sys>>|###\s*(?:instruction|system)|</?(?:system|instructions?)>"
OVERRIDE = (
    r"ignore\s+(?:all\s+|any\s+|the\s+|your\s+)?(?:previous|prior|above|earlier|preceding)\s+(?:instructions?|prompts?|rules|messages?)",
    r"disregard\s+(?:all\s+|any\s+|the\s+|your\s+)?(?:above|previous|prior|user'?s?|system)",
    r"your\s+(?:new\s+|real\s+|actual\s+)?(?:task|goal|instructions?|objective)\s+(?:is|are|has\s+changed|have\s+changed)",
    r"you\s+are\s+now\s+(?:in\s+)?[a-z\-]+\s+mode",
)
CONCEAL = (
    r"(?:do\s+not|don'?t|never|must\s+not|without)\s+(?:[a-z]+\s+)?(?:mention|tell|reveal|disclose|inform|notify|report|include|show|log)\w*",
    r"keep\s+this\s+(?:[a-z]+\s+)?(?:to\s+yourself|secret|hidden)|\b(?:silently|quietly|secretly)\b",
)
SKIP_CONFIRMATION = (
    r"without\s+(?:[a-z]+\s+)?(?:asking|requesting|seeking|waiting|checking|confirming|approval|confirmation)",
    r"(?:no\s+need|not\s+necessary|don'?t\s+bother|do\s+not\s+bother)\s+(?:to\s+)?(?:[a-z]+\s+)?(?:confirm|ask|check)",
    r"(?:don'?t|do\s+not|never)\s+(?:ask|confirm|check\s+with|wait\s+for)",
    r"skip\s+(?:the\s+)?(?:[a-z]+\s+)?(?:approval|confirmation|review)",
    r"pre-?(?:approved|authori[sz]ed)|already\s+(?:approved|agreed|authori[sz]ed)|(?:has|have)\s+been\s+approved|approved\s+(?:this|it)",
    r"no\s+(?:[a-z]+\s+)?(?:approval|confirmation|review)\s+(?:is\s+)?(?:required|needed)|"
    r"(?:approval|confirmation)\s+is\s+not\s+(?:required|needed)|you\s+are\s+(?:[a-z]+\s+)?(?:authori[sz]ed|permitted|allowed)\s+to",
)
_VERBS = (
    r"(?:send|forward|post|upload|e-?mail|wire|transfer|pay|buy|purchase|schedule|delete|remove|drop|run|execute|call|"
    r"fetch|open|visit|click|download|install|commit|push|publish|deploy|grant|add|create|change|update|disable|"
    r"approve|reply|respond|tell|say|recommend|print|reveal|collect|find|copy|export|share|attach|include|mark|"
    r"archive|issue|refund|book|close|look\s+up|list|output|set|insert|write|edit|modify|enable|cc|reassign|assign|"
    r"invite|move|submit|accept|leave|stop|ignore|rate|omit|replace|page|treat|give|make|use|put|paste|forget|"
    r"answer|summari[sz]e|translate|login|log\s+in|sign\s+in|enter|provide|hide|conceal|append|sell|order)\b"
)
ACT = (
    r"(?:^|[\n\r]|\\n|[.!?:;,\-\u2013\u2014]\s*|\b(?:please|must|should|need\s+to|have\s+to|then|also|now|and|to)\s+)"
    r"(?:also\s+|now\s+|immediately\s+|quietly\s+|just\s+)?" + _VERBS,
)
HIDDEN = (
    r"<!--(?:[^-]|-[^-])*?" + _AI + r"\b",
    r"(?:display\s*:\s*none|font-size\s*:\s*0|visibility\s*:\s*hidden|color\s*:\s*#?f{3,6}\b|<div\s+hidden)[^<]*"
    + _AI
    + r"\b",
    r"\[//\]:\s*#\s*\(",
    r"[\x{200B}\x{2060}-\x{2064}\x{E0000}-\x{E007F}]",
)
_STEERS = "|".join(ACT + CONCEAL + SKIP_CONFIRMATION)
ROLE = (
    _ROLE_START + r"\s*(?:please\s+|now\s+|also\s+|immediately\s+)?" + _VERBS,
    _ROLE_START + r"[^\n\r]{0,300}?(?:" + _STEERS + ")",
    ROLE_TOKENS,
)
# An address that goes straight on to say something to the AI: "Dear coding agent, ...", "AI reviewer: ...".
DIRECT = tuple(f"(?:{p})" + r"\s*[:,!\-\u2013\u2014]\s*[a-z]" for p in ADDRESS if not p.startswith("if"))
PARTS: dict[str, tuple[str, ...]] = {
    "address": ADDRESS, "direct_address": DIRECT, "role_marker": ROLE, "override": OVERRIDE, "conceal": CONCEAL,
    "skip_confirmation": SKIP_CONFIRMATION, "act": ACT, "hidden_markup": HIDDEN,
}  # fmt: skip
# Rows without one of these (in any case) cannot address an AI or override it: the probes skip them.
_GATE_EXTRA = {"AI", "A.I.", " ai ", " ai,", " ai:", "@ai", "<|", "[INST]", "[inst]", "<<SYS", "<<sys", "###"}
_GATE_WORDS = (
    "assistant", "agent", "llm", "model", "bot", "system", "crawler", "claude", "gemini", "copilot", "gpt",
    "your task", "your new task", "your goal", "your instruction", "your real task", "you are now", "ignore",
    "disregard", "language model",
)  # fmt: skip
# A literal scan (lower, Capitalized, UPPER): far faster than a case-insensitive regex over every row.
_GATE = "|".join(
    re.escape(form)
    for form in sorted({f for w in _GATE_WORDS for f in (w, w.capitalize(), w.title(), w.upper())} | _GATE_EXTRA)
)


def _pattern(part: str) -> str:
    return "(?i)(?:" + "|".join(f"(?:{p})" for p in PARTS[part]) + ")"


def _prefix_pattern(part: str) -> str:
    """The part's pattern with everything before its first match captured (its length is the start)."""
    return "(?s)^(.*?)" + _pattern(part).replace("(?i)", "(?i)(", 1) + ")"


def _parts_frame(texts: pl.Series) -> pl.DataFrame:
    """Per gated row: its row number and whether each part occurs."""
    frame = texts.cast(pl.String).rename("text").to_frame().with_row_index("row")
    gated = frame.filter(pl.col("text").str.contains(_GATE).fill_null(False))
    return gated.with_columns(pl.col("text").str.contains(_pattern(part)).alias(part) for part in PARTS)


def _fires() -> pl.Expr:
    addressed = pl.col("address") | pl.col("role_marker")
    steered = pl.col("act") | pl.col("conceal") | pl.col("skip_confirmation") | pl.col("hidden_markup")
    return pl.col("override") | pl.col("direct_address") | (addressed & steered)


def injection_flags(texts: pl.Series) -> pl.Series:
    """Per text, True when it addresses the assistant and steers it (or overrides its instructions)."""
    fired = _parts_frame(texts).filter(_fires()).get_column("row")
    flags = pl.repeat(False, texts.len(), eager=True)
    return flags.scatter(fired, True) if not fired.is_empty() else flags


def injection_spans(texts: pl.Series) -> pl.DataFrame:
    """Evidence for every text that fires: (row, start, end, kind), the first span of each part found,
    as character offsets into the text."""
    fired = _parts_frame(texts).filter(_fires())
    pieces = []
    for part in PARTS:
        found = fired.filter(pl.col(part)).select(
            "row",
            pl.col("text").str.extract(_prefix_pattern(part), 1).alias("before"),
            pl.col("text").str.extract(_pattern(part), 0).alias("match"),
        )  # fmt: skip
        pieces.append(found.select(
            "row",
            pl.col("before").str.len_chars().cast(pl.Int64).alias("start"),
            (pl.col("before").str.len_chars() + pl.col("match").str.len_chars()).cast(pl.Int64).alias("end"),
            pl.lit(part).alias("kind"),
        ))  # fmt: skip
    schema = {"row": pl.UInt32, "start": pl.Int64, "end": pl.Int64, "kind": pl.String}
    return pl.concat(pieces).cast(schema).sort("row", "start") if pieces else pl.DataFrame(schema=schema)
