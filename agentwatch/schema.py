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


# The `metric_points` table: one row per OTLP metric data point an agent exported (`agentwatch receive`
# /v1/metrics and gRPC, OTLP/JSON metric files): its usage counters, per agent, session and user. Ingest
# writes it (`ingest.formats.otlp.metrics` decodes, `ingest.staging.points` deduplicates on `point_id`);
# the `session_usage` view adds it up. Each column: (name, type, nullable, meaning).
_TS = pa.timestamp("us", tz="UTC")
METRIC_POINT_CONTRACT = (
    ("point_id", pa.string(), False, "sha256 of the point's series (resource, scope, metric, attributes) and "
     "times: the dedup key, so a retried export is stored once"),
    ("ts", _TS, False, "the point's time (`timeUnixNano`)"),
    ("start_ts", _TS, True, "start of the point's aggregation window (`startTimeUnixNano`); null when unset"),
    ("agent_id", pa.string(), False, "`gen_ai.agent.id`/`gen_ai.agent.name`, else `claude-code`/`codex` for "
     "their metrics, else the resource's `service.name`"),
    ("session_id", pa.string(), True, "`session.id` (or `conversation.id`, `gen_ai.conversation.id`) of the "
     "point, else of the resource; null for a fleet-wide counter"),
    ("user_id", pa.string(), True, "`user.account_uuid`, else `user.id`"),
    ("metric_name", pa.string(), False, "e.g. `claude_code.token.usage`, `claude_code.cost.usage`"),
    ("metric_type", pa.string(), False, "gauge, sum, histogram, exponential_histogram or summary"),
    ("unit", pa.string(), True, "the unit the exporter declared (`tokens`, `USD`, `s`, `count`)"),
    ("description", pa.string(), True, "the metric's description"),
    ("temporality", pa.string(), True, "delta or cumulative (sums and histograms): how points add up"),
    ("is_monotonic", pa.bool_(), True, "sums: whether the counter only grows"),
    ("value", pa.float64(), True, "gauges and sums: the number; histograms and summaries: the sum of what "
     "they observed"),
    ("count", pa.int64(), True, "histograms and summaries: how many observations"),
    ("min", pa.float64(), True, "histograms: the smallest observation"),
    ("max", pa.float64(), True, "histograms: the largest observation"),
    ("model", pa.string(), True, "the point's `model` (or `gen_ai.request.model`) attribute"),
    ("usage_type", pa.string(), True, "the point's `type` attribute: the token kind (input, output, cacheRead, "
     "cacheCreation), lines added or removed, ..."),
    ("attributes", pa.string(), False, "JSON: every attribute of the point"),
    ("resource", pa.string(), False, "JSON: the resource's attributes"),
    ("scope", pa.string(), False, "JSON: the instrumentation scope (name, version, attributes)"),
    ("detail", pa.string(), False, "JSON: what the point carries beyond the columns (buckets, bounds, "
     "quantiles, exemplars, flags, the metric's other fields)"),
    ("redactions", pa.int32(), False, "secrets masked in this row"),
    ("source_format", pa.string(), False, "the format it was read as (`otlp_metrics`)"),
    ("source_file", pa.string(), False, "the file it was read from (a spool file for the receiver)"),
    ("source_offset", pa.int64(), False, "byte offset of its request's line in that file"),
)
METRIC_POINT_SCHEMA = pa.schema(
    [pa.field(name, kind, nullable=nullable) for name, kind, nullable, _ in METRIC_POINT_CONTRACT],
    metadata={"agentwatch.schema_version": str(SCHEMA_VERSION)},
)
