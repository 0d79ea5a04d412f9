"""Decode a batch of raw lines into canonical events, quarantine entries and skip counts.

Native JSON Lines (`native_fast`), OTLP/JSON trace requests (`otlp_fast`) and log requests
(`otlp_logs_fast`) take a vectorized path (DuckDB) for the lines that are plainly clean; every other
line, and every line of other formats, goes through `decode_line`, one record at a time, which owns
the policy. Both paths give the same events for a clean line (tested).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from agentwatch.errors import RecordError
from agentwatch.ingest.formats import Format, SkipRecord
from agentwatch.ingest.formats.native.fast import decode_native_fast
from agentwatch.ingest.formats.otlp.fast.logs import decode_otlp_logs_fast
from agentwatch.ingest.formats.otlp.fast.traces import PreparedLines, decode_otlp_fast
from agentwatch.ingest.formats.otlp.metrics import decode_metric_points
from agentwatch.ingest.reader import LineBatch
from agentwatch.ingest.records import FUTURE_TOLERANCE, FileHints, Location, normalize_event
from agentwatch.schema import EVENT_SCHEMA

BOM = b"\xef\xbb\xbf"


@dataclass
class Decoded:
    """What one batch became."""

    events: list[pa.Table] = field(default_factory=list)
    masked: list[pa.Table] = field(default_factory=list)  # events masked already (decoded with other files)
    quarantine: list[dict[str, Any]] = field(default_factory=list)  # line_no, offset, reason, raw
    skipped: Counter = field(default_factory=Counter)  # reason -> records
    points: list[dict[str, Any]] = field(default_factory=list)  # metric_points rows (otlp_metrics)
    records: int = 0  # non-blank lines read
    decoded_records: int = 0  # records that became events (or none, by design of their format)
    blank: int = 0

    def event_table(self) -> pa.Table:
        """All events of the batch as one table."""
        return pa.concat_tables(self.events) if self.events else EVENT_SCHEMA.empty_table()


@dataclass(frozen=True)
class DecodeContext:
    """Where a batch comes from and the fixed clock its policy judges against."""

    fmt: Format
    source_file: str
    now: datetime
    con: duckdb.DuckDBPyConnection
    hints: FileHints = FileHints()
    bulk: PreparedLines | None = None  # this file's lines already decoded (and masked) with other files


def record_lines(batch: LineBatch) -> tuple[pa.Table, int]:
    """The batch's non-blank lines as text (line_no, source_offset, line), and how many were blank."""
    text, invalid_utf8 = _as_text(batch.lines)
    blank = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(text)), 0)
    if invalid_utf8 is not None:
        blank = pc.and_(blank, pc.invert(invalid_utf8))
    table = pa.table({"line_no": batch.line_nos, "source_offset": batch.offsets, "line": text})
    return table.filter(pc.invert(blank)), pc.sum(blank).as_py() or 0


def decode_batch(batch: LineBatch, ctx: DecodeContext) -> Decoded:
    """Decode every line of a batch; blank lines are counted, never records."""
    out = Decoded()
    table, out.blank = record_lines(batch)
    out.records = len(table)
    if ctx.fmt.name == "native":
        table = _decode_native_fast(table, ctx, out)
    elif ctx.fmt.name == "otlp_json":
        table = _decode_otlp_fast(table, ctx, out)
    elif ctx.fmt.name == "otlp_logs":
        table = _decode_otlp_logs_fast(table, ctx, out)
    first = int(batch.line_nos[0]) if len(batch.line_nos) else 0
    for line_no in table.column("line_no").to_pylist():
        i = line_no - first
        last = batch.unterminated_last and i == len(batch.lines) - 1
        where = Location(ctx.fmt.name, ctx.source_file, int(batch.offsets[i]), line_no, ctx.hints)
        _decode_one(batch.lines[i].as_py(), where, ctx, last, out)
    return out


def _as_text(lines: pa.LargeBinaryArray) -> tuple[pa.LargeStringArray, pa.BooleanArray | None]:
    """The lines as UTF-8 text; invalid lines become empty text, marked in the second value."""
    try:
        return lines.cast(pa.large_string()), None
    except pa.ArrowInvalid:
        bad = [not _is_utf8(raw) for raw in lines.to_pylist()]
        mask = pa.array(bad)
        cleaned = pc.if_else(mask, pa.scalar(b"{}", pa.large_binary()), lines)
        return cleaned.cast(pa.large_string()), mask


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decode_native_fast(table: pa.Table, ctx: DecodeContext, out: Decoded) -> pa.Table:
    """Decode the clean lines in bulk; return the lines left for the per-record path."""
    events, done = decode_native_fast(ctx.con, table, ctx.source_file, ctx.now + FUTURE_TOLERANCE)
    if len(events):
        out.events.append(events)
    out.decoded_records += len(events)
    if len(events) == len(table):
        return table.slice(0, 0)
    return table.filter(pc.invert(pc.is_in(table.column("line_no"), done)))


def _decode_otlp_fast(table: pa.Table, ctx: DecodeContext, out: Decoded) -> pa.Table:
    """Decode the OTLP trace requests the bulk path can prove in bulk; return the lines left."""
    bulk = ctx.bulk or decode_otlp_fast(ctx.con, table, ctx.source_file, ctx.fmt.name, ctx.now + FUTURE_TOLERANCE)
    return _take_bulk(table, bulk, out, masked=ctx.bulk is not None)


def _decode_otlp_logs_fast(table: pa.Table, ctx: DecodeContext, out: Decoded) -> pa.Table:
    """Decode the OTLP log requests the bulk path can prove in bulk; return the lines left."""
    latest = ctx.now + FUTURE_TOLERANCE
    bulk = ctx.bulk or decode_otlp_logs_fast(ctx.con, table, ctx.source_file, ctx.fmt.name, latest)
    return _take_bulk(table, bulk, out, masked=ctx.bulk is not None)


def _take_bulk(table: pa.Table, bulk: PreparedLines, out: Decoded, *, masked: bool) -> pa.Table:
    """Keep the batch's lines decoded in bulk (events masked already or not); return the lines left."""
    events, done = bulk.take(table.column("line_no"))
    if len(events):
        (out.masked if masked else out.events).append(events)
    out.decoded_records += len(done)
    return table.filter(pc.invert(pc.is_in(table.column("line_no"), done)))


def _decode_one(raw: bytes, where: Location, ctx: DecodeContext, last: bool, out: Decoded) -> None:
    try:
        if ctx.fmt.name == "otlp_metrics":  # data points, not events
            out.points.extend(decode_point_line(raw, where))
            out.decoded_records += 1
            return
        rows = decode_line(raw, where, ctx.fmt, ctx.now)
    except SkipRecord as skip:
        out.skipped[str(skip)] += 1
        return
    except RecordError as exc:
        reason = exc.message
        if last:
            reason += " (last line has no newline: the file may be truncated)"
        out.quarantine.append({"line_no": where.line_no, "source_offset": where.source_offset,
                               "reason": reason, "raw": raw})
        return
    out.decoded_records += 1
    if rows:
        out.events.append(pa.Table.from_pylist(rows, schema=EVENT_SCHEMA))


def decode_line(raw: bytes, where: Location, fmt: Format, now: datetime) -> list[dict[str, Any]]:
    """Decode one raw line into canonical rows; raises RecordError or SkipRecord."""
    flags: list[str] = []
    content = raw
    record = parse_raw_line(raw, flags)
    events = fmt.decode(record, where)
    return [
        normalize_event(event, where, now=now, content=content, index=index, flags=tuple(flags))
        for index, event in enumerate(events)
    ]


def decode_point_line(raw: bytes, where: Location) -> list[dict[str, Any]]:
    """Decode one raw OTLP metrics line into `metric_points` rows (not yet masked); raises RecordError."""
    provenance = {"redactions": 0, "source_format": where.source_format, "source_file": where.source_file,
                  "source_offset": where.source_offset}
    return [{**row, **provenance} for row in decode_metric_points(parse_raw_line(raw, []))]


def parse_raw_line(raw: bytes, flags: list[str]) -> Any:
    """A line's JSON record: a BOM stripped (flagged), UTF-8 required."""
    if raw.startswith(BOM):
        raw = raw[len(BOM):]
        flags.append("bom_stripped")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(f"invalid UTF-8 at byte {exc.start} of the line") from exc
    return parse_json_record(text, flags)


def parse_json_record(text: str, flags: list[str]) -> Any:
    """Parse JSON text; duplicate keys keep the last value and NaN/Infinity become null, flagged."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for key, value in items:
            if key in obj and "duplicate_keys" not in flags:
                flags.append("duplicate_keys")
            obj[key] = value
        return obj

    def constant(name: str) -> None:
        if "nan_to_null" not in flags:
            flags.append("nan_to_null")

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise RecordError(f"malformed JSON: {exc.msg} (column {exc.colno})") from exc
    except RecursionError as exc:
        raise RecordError("malformed JSON: nested too deeply") from exc
