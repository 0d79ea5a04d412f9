"""The canonical event: the one contract between ingest and everything downstream.

Declared once here as an Arrow schema plus a version. Every decoder produces rows of this shape;
the lake stores exactly these columns (plus the hive partition `date`, derived from `ts`).
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = 1

EVENT_TYPES = (
    "user_prompt",
    "system_prompt",
    "llm_response",
    "reasoning",
    "tool_call",
    "tool_result",
    "approval",
    "agent_spawn",
    "error",
)
# An event type a source invents is kept, not crashed on: it becomes this and the original goes to attrs.
UNKNOWN_EVENT_TYPE = "unknown"

STATUSES = ("ok", "error")

# Fields a record must carry; without one of them the record is quarantined.
REQUIRED_FIELDS = ("ts", "agent_id", "session_id", "event_type")

EVENT_SCHEMA = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("agent_id", pa.string(), nullable=False),
        pa.field("session_id", pa.string(), nullable=False),
        pa.field("parent_session_id", pa.string()),
        pa.field("trace_id", pa.string()),
        pa.field("span_id", pa.string()),
        pa.field("parent_span_id", pa.string()),
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("event_type", pa.string(), nullable=False),
        pa.field("actor", pa.string()),
        pa.field("model", pa.string()),
        pa.field("tool_name", pa.string()),
        pa.field("tool_call_id", pa.string()),
        pa.field("tool_args", pa.string()),
        pa.field("text", pa.string()),
        pa.field("input_tokens", pa.int64()),
        pa.field("output_tokens", pa.int64()),
        pa.field("status", pa.string()),
        pa.field("redactions", pa.int32(), nullable=False),
        # What ingest adjusted or noticed (e.g. `ts_assumed_utc`, `invisible_unicode`): never silent.
        pa.field("flags", pa.list_(pa.string()), nullable=False),
        pa.field("source_format", pa.string(), nullable=False),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("source_offset", pa.int64(), nullable=False),
        pa.field("attrs", pa.string(), nullable=False),
    ],
    metadata={"agentwatch.schema_version": str(SCHEMA_VERSION)},
)

EVENT_COLUMNS = tuple(EVENT_SCHEMA.names)

# Columns a source record may set directly, and the JSON kind each accepts.
STRING_FIELDS = (
    "event_id",
    "agent_id",
    "session_id",
    "parent_session_id",
    "trace_id",
    "span_id",
    "parent_span_id",
    "event_type",
    "actor",
    "model",
    "tool_name",
    "tool_call_id",
    "text",
    "status",
    "source_format",
    "source_file",
)
INTEGER_FIELDS = ("seq", "input_tokens", "output_tokens", "source_offset", "redactions")

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("batch_id", pa.string(), nullable=False),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("source_format", pa.string(), nullable=False),
        pa.field("source_offset", pa.int64(), nullable=False),
        pa.field("line_no", pa.int64(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        # The record as read (secrets masked); bytes, because invalid UTF-8 must survive too.
        pa.field("raw", pa.large_binary(), nullable=False),
        pa.field("raw_truncated", pa.bool_(), nullable=False),
        pa.field("redactions", pa.int32(), nullable=False),
        pa.field("quarantined_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ],
    metadata={"agentwatch.schema_version": str(SCHEMA_VERSION)},
)

