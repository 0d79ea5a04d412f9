"""Bulk decode of OTLP/JSON log lines (`otlp_logs`: the receiver's spool, Collector file exports), in
the style of the trace path (`otlp_fast`): DuckDB parses each request once into typed structs and maps
log records to canonical events in SQL (`otlp_logs_fast_*.sql`), with no Python object per record.

Only lines the SQL can prove it reads exactly as the per-record path reads them are decoded here
(every quote and colon of the raw line accounted for, as in `otlp_fast_lines.sql`). The common case
is taken: Claude Code's event families (`claude_code.user_prompt`, `api_request`, `api_error`,
`tool_result`, `tool_decision`) and Codex CLI's (`codex.conversation_starts`, `user_prompt`,
`tool_result`, `tool_decision`, `sse_event`, `api_request`), with string, int, bool and double
attributes, a string body (or none), `timeUnixNano` or `observedTimeUnixNano`, and a scope of string
name/version. A line with anything else stays whole on the per-record path (`otlp_logs`,
`log_events`), which owns the policy and the quarantine reasons: OTel GenAI log events and any other
event name, bytes/array/kvlist values, a body of another kind or a null field, a time only in
`event.timestamp`, resource or scope fields beyond those, repeated keys, odd escapes, a double or
int spelt otherwise than JSON writes it back, an attribute the mapping would coerce with `str()` or
refuse, a missing identity. Both paths give the same events for a line decoded here (tested), event_id
included: "log:<digest>:<n>", the digest the md5 of the record with its resource and scope serialized
with sorted keys as orjson writes them, which the SQL rebuilds from the typed parse, so ids are the
same as before this path existed.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa

from agentwatch.ingest.formats.otlp.fast.traces import PreparedLines, run_bulk_steps
from agentwatch.ingest.records import micros_since_epoch
from agentwatch.schema import EVENT_TYPES

# Each step is a temporary table named otlp_logs_fast_<step>, built from otlp_logs_fast_<step>.sql in this order.
STEPS = ("requests", "resources", "scopes", "records", "attributes", "lines", "facts", "decoded")


def decode_otlp_logs_fast(
    con: duckdb.DuckDBPyConnection, batch: pa.Table, source_file: str, source_format: str, latest: datetime
) -> PreparedLines:
    """Decode the log lines of `batch` (line_no, source_offset, line) the bulk path can prove: their
    events and the line numbers decoded."""
    params = {"event_types": list(EVENT_TYPES), "latest_us": micros_since_epoch(latest)}
    return run_bulk_steps(con, batch, "otlp_logs_fast", STEPS, params, source_file, source_format)
