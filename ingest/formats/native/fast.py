"""Bulk decode of native JSON Lines: DuckDB parses, polars judges and builds the columns.

Only lines that are plainly clean are decoded here; every other line is left for the per-record
path (`ingest.decode.decode_line`), which owns the policy and the quarantine reasons. So this module
only has to be conservative: "clean" must imply the per-record path would accept the line unchanged
(a test decodes the same lines both ways).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from agentwatch.ingest.records import SETTABLE
from agentwatch.schema import EVENT_COLUMNS, EVENT_SCHEMA, EVENT_TYPES, REQUIRED_FIELDS, STATUSES
from agentwatch.schema import STRING_FIELDS as SCHEMA_STRINGS

SQL = (Path(__file__).parent / "sql" / "native_fast.sql").read_text()
# The fields a native record may carry, in column order; `attrs` is the one more the record sets.
FIELDS = tuple(name for name in EVENT_COLUMNS if name in SETTABLE or name == "attrs")
PATHS = [f"$.{name}" for name in FIELDS]
REQUIRED_STRINGS = REQUIRED_FIELDS
STRING_FIELDS = tuple(name for name in FIELDS if name in SCHEMA_STRINGS or name == "ts")
# `json_extract_string` tells a JSON string from a number or an object only by its text ("5" and 5
# both read "5"), so the kinds are read off the raw line instead: a canonical key followed by a value
# of the wrong kind sends the line to the per-record path. The same pattern inside a string value only
# costs a detour, never a wrong event. Keys spelled with \u escapes dodge the pattern, so any \u
# escape right before `":` also sends the line there.
WRONG_KIND = "|".join([
    rf'"(?:{"|".join(STRING_FIELDS)})"\s*:\s*[^"\sn]',  # a string field holding a number, bool, object, array
    r'"(?:seq|input_tokens|output_tokens)"\s*:\s*"',  # an integer field holding a string
    r'"tool_args"\s*:\s*[-\dtf]',  # tool_args holding a number or a boolean
    r'"attrs"\s*:\s*[^{n\s]',  # attrs holding anything but an object or null
    r'\\u[0-9a-fA-F]{4}[^"]*"\s*:',  # an escaped key
    r"\bNaN\b|\bInfinity\b",  # non-JSON numbers DuckDB accepts
])
ISO_TS = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"


def decode_native_fast(
    con: duckdb.DuckDBPyConnection, batch: pa.Table, source_file: str, latest: datetime
) -> tuple[pa.Table, pa.Array]:
    """Decode the clean lines of `batch`; return their events and the line numbers decoded."""
    wrong_kind = pl.from_arrow(batch.column("line")).str.contains(WRONG_KIND)
    con.register("batch", batch.append_column("wrong_kind", wrong_kind.to_arrow()))
    try:
        parsed = con.sql(SQL, params=[source_file, PATHS]).pl()
    finally:
        con.unregister("batch")
    fields = parsed.select(
        "line_no", "source_offset", "keys", "content_id", "wrong_kind",
        *[pl.col("texts").list.get(i, null_on_oob=True).alias(n) for i, n in enumerate(FIELDS)],
    )
    clean = fields.filter(_is_clean(latest)).with_columns(_timestamp())
    clean = clean.filter(pl.col("ts_parsed").is_not_null() & (pl.col("ts_parsed") <= latest))
    events = clean.select(_columns(source_file))
    return events.to_arrow().cast(EVENT_SCHEMA), clean["line_no"].to_arrow()


def _is_clean(latest: datetime) -> pl.Expr:
    kinds = [~pl.col("wrong_kind"), pl.col("keys").is_not_null()]
    kinds += [pl.col(name).is_not_null() for name in REQUIRED_STRINGS]
    integers = [
        pl.col("seq").is_null() | pl.col("seq").str.contains(r"^-?\d{1,18}$"),
        pl.col("input_tokens").is_null() | pl.col("input_tokens").str.contains(r"^\d{1,18}$"),
        pl.col("output_tokens").is_null() | pl.col("output_tokens").str.contains(r"^\d{1,18}$"),
    ]
    keys = [
        pl.col("keys").list.eval(pl.element().is_in(list(FIELDS))).list.all(),
        pl.col("keys").list.n_unique() == pl.col("keys").list.len(),
    ]
    values = [
        pl.col("agent_id") != "",
        pl.col("session_id") != "",
        pl.col("event_type").is_in(list(EVENT_TYPES)),
        pl.col("status").is_null() | pl.col("status").is_in(list(STATUSES)),
        pl.col("ts").str.contains(ISO_TS),
        pl.col("ts").str.slice(0, 4) >= "1970",
    ]
    return pl.all_horizontal(*kinds, *integers, *keys, *values)


def _timestamp() -> pl.Expr:
    text = pl.col("ts").str.replace(r"Z$", "+00:00")
    return text.str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%dT%H:%M:%S%.f%:z", strict=False).alias("ts_parsed")


def _columns(source_file: str) -> list[pl.Expr]:
    seq = pl.col("seq").cast(pl.Int64, strict=False)
    return [
        pl.coalesce("event_id", "content_id").alias("event_id"),
        pl.col("ts_parsed").alias("ts"),
        *[pl.col(n) for n in ("agent_id", "session_id", "parent_session_id", "trace_id", "span_id",
                              "parent_span_id")],
        pl.coalesce(seq, pl.col("line_no")).alias("seq"),
        *[pl.col(n) for n in ("event_type", "actor", "model", "tool_name", "tool_call_id", "tool_args", "text")],
        pl.col("input_tokens").cast(pl.Int64, strict=False),
        pl.col("output_tokens").cast(pl.Int64, strict=False),
        pl.col("status"),
        pl.lit(0, pl.Int32).alias("redactions"),
        pl.when(seq.is_null()).then(pl.lit(["seq_from_line"])).otherwise(pl.lit([], pl.List(pl.String)))
        .alias("flags"),
        pl.lit("native").alias("source_format"),
        pl.lit(source_file).alias("source_file"),
        pl.col("source_offset"),
        pl.col("attrs").fill_null("{}"),
    ]
