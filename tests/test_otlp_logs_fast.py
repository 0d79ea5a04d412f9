"""The bulk OTLP logs decoder (`ingest.otlp_logs_fast`) against the per-record path: for every line
the bulk path decodes, the same events row for row (ids, seq, attrs text, flags, every column); every
line it declines goes to the per-record path; and whole ingests agree file for file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from agentwatch.ingest.decode import decode_line
from agentwatch.ingest.formats import get_format
from agentwatch.ingest.otlp_logs_fast import decode_otlp_logs_fast
from agentwatch.ingest.records import FUTURE_TOLERANCE, Location
from tests.otlp_builders import NOW

FIXTURES = Path(__file__).parent / "fixtures" / "otlp"


def both_ways(lines: list[bytes]) -> set[int]:
    """Decode `lines` in bulk and one by one; assert the bulk events equal the per-record ones for
    every line the bulk path took; return the line numbers it took."""
    batch = pa.table({
        "line_no": pa.array(range(1, len(lines) + 1), pa.int64()),
        "source_offset": pa.array([10 * i for i in range(len(lines))], pa.int64()),
        "line": pa.array([line.decode() for line in lines], pa.large_string()),
    })
    prepared = decode_otlp_logs_fast(duckdb.connect(), batch, "logs.jsonl", "otlp_logs", NOW + FUTURE_TOLERANCE)
    events, done = prepared.take(batch.column("line_no"))
    bulk = events.to_pylist()
    taken = set(done.to_pylist())
    expected = []
    for line_no in sorted(taken):
        where = Location("otlp_logs", "logs.jsonl", 10 * (line_no - 1), line_no)
        expected.extend(decode_line(lines[line_no - 1], where, get_format("otlp_logs"), NOW))
    assert len(bulk) == len(expected)
    for got, want in zip(bulk, expected, strict=True):
        assert got == want
    return taken


def test_claude_code_fixture_decodes_in_bulk_exactly_as_one_by_one() -> None:
    lines = (FIXTURES / "claude_code_logs.jsonl").read_bytes().splitlines()
    assert both_ways(lines) == {1}
