"""Bulk decoding across files. The receiver's spool holds one small file per export request, and the
bulk decoders' fixed cost per call (a dozen DuckDB statements) would dominate file by file; so the
`otlp_json` files of an ingest are decoded together (and its `otlp_logs` files together), up to
GROUP_BYTES of input, and each file then takes its own lines' events (`PreparedLines`), masked already
(masking is row by row, and its own fixed cost per call is as large), while everything else about it
(counts, quarantine, per-record lines, staging) stays per file."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from agentwatch.errors import InputError
from agentwatch.ingest.decode import record_lines
from agentwatch.ingest.formats.otlp.fast.logs import decode_otlp_logs_fast
from agentwatch.ingest.formats.otlp.fast.traces import PreparedLines, decode_otlp_fast
from agentwatch.ingest.reader import LineBatch, iter_line_batches
from agentwatch.ingest.records import FUTURE_TOLERANCE

GROUP_BYTES = 16 << 20  # input bytes decoded at once: bounds the memory of a group (~40x in RSS)
BULK_FORMATS = ("otlp_json", "otlp_logs")

# (file index, path, source_file as recorded, its format's name, bytes)
Item = tuple[int, Path, str, str, int]
Mask = Callable[[pa.Table], pa.Table]  # Sanitizer.mask_events


def with_prepared_lines(
    con: duckdb.DuckDBPyConnection, items: Sequence[Item], now: datetime, mask: Mask
) -> Iterator[tuple[int, PreparedLines | None]]:
    """Each item's index with its lines decoded in bulk and masked (None for other formats), in order.
    A group gathers the next files of one OTLP signal even across files of other formats between them
    (a spool interleaves traces and logs), so it is not cut to one file."""
    grouped = [item for item in items if item[3] in BULK_FORMATS and not _alone(item)]
    bulk_items = {name: [item for item in grouped if item[3] == name] for name in BULK_FORMATS}
    prepared: dict[str, dict[int, PreparedLines]] = {name: {} for name in BULK_FORMATS}
    taken = dict.fromkeys(BULK_FORMATS, 0)
    for item in items:
        index, name = item[0], item[3]
        if name not in BULK_FORMATS or _alone(item):
            yield index, None
            continue
        if index not in prepared[name]:
            group = _next_group(bulk_items[name][taken[name]:])
            taken[name] += len(group)
            prepared[name] = prepare_files(con, group, now, mask, name)
        yield index, prepared[name].pop(index)


def _alone(item: Item) -> bool:
    """A log file larger than a group is decoded batch by batch (`decode.decode_batch` calls the bulk
    decoder per batch): one call over the whole file would hold all of it, several times over, at once."""
    return item[3] == "otlp_logs" and item[4] > GROUP_BYTES


def _next_group(items: Sequence[Item]) -> list[Item]:
    """The first items, up to GROUP_BYTES of input (at least one)."""
    group, size = [], 0
    for item in items:
        if group and size + item[4] > GROUP_BYTES:
            break
        group.append(item)
        size += item[4]
    return group


def prepare_files(
    con: duckdb.DuckDBPyConnection, group: Sequence[Item], now: datetime, mask: Mask, fmt: str = "otlp_json"
) -> dict[int, PreparedLines]:
    """Decode (and mask) the lines of several files in one bulk call; the result split back by file."""
    parts = [part for index, path, *_ in group for part in _file_lines(index, path)]
    if not parts:
        return {}
    lines = pa.concat_tables(parts)
    keyed = pa.table({"line_no": pa.array(range(len(lines)), pa.int64()),
                      "source_offset": lines.column("source_offset"), "line": lines.column("line")})
    decode = decode_otlp_fast if fmt == "otlp_json" else decode_otlp_logs_fast  # looked up per call
    bulk = decode(con, keyed, "", fmt, now + FUTURE_TOLERANCE)
    files, line_nos = lines.column("file_index").combine_chunks(), lines.column("line_no").combine_chunks()
    event_keys = bulk.events.column("line_no")
    events = mask(bulk.events.drop_columns(["line_no"])).append_column("line_no", pc.take(line_nos, event_keys))
    event_files = pc.take(files, event_keys).to_numpy(zero_copy_only=False)
    if len(event_files) > 1 and (np.diff(event_files) < 0).any():  # keep each file's events contiguous
        order = np.argsort(event_files, kind="stable")
        events, event_files = events.take(order), event_files[order]
    done_files = pc.take(files, bulk.done)
    done = pc.take(line_nos, bulk.done)
    return {index: _for_file(events, event_files, done, done_files, index, source_file)
            for index, _, source_file, *_ in group}


def _for_file(events: pa.Table, event_files: np.ndarray, done: pa.Array, done_files: pa.Array, index: int,
              source_file: str) -> PreparedLines:
    """One file's share: its events are a slice (sorted by file), its decoded line numbers a filter."""
    start, end = np.searchsorted(event_files, [index, index + 1])
    mine = events.slice(start, end - start)
    column = mine.schema.get_field_index("source_file")
    mine = mine.set_column(column, mine.schema.field(column), pa.repeat(pa.scalar(source_file, pa.string()), len(mine)))
    return PreparedLines(mine, done.filter(pc.equal(done_files, index)))


def _file_lines(index: int, path: Path) -> list[pa.Table]:
    """The file's non-blank lines with its index; none when it cannot be read (the per-file path
    then reports that error as before)."""
    try:
        tables = [record_lines(batch)[0] for batch in iter_line_batches(path) if isinstance(batch, LineBatch)]
    except InputError:
        return []
    return [t.append_column("file_index", pa.array([index] * len(t), pa.int64())) for t in tables]
