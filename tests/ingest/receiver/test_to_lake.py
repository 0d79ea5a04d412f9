"""End to end: the real OpenTelemetry SDK exports to `agentwatch receive`, the receiver is killed,
and `agentwatch ingest` (no path) lands every acknowledged span in `events` exactly once."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

from agentwatch.cli import cli
from agentwatch.ingest.receiver.http_server import serve_receiver, stop_receiver
from agentwatch.ingest.receiver.spool import default_spool_dir, spooled_files
from agentwatch.lake import Lake
from tests.ingest.receiver.test_http_server import RUNS, endpoint, run_agents, traced


def test_acknowledged_spans_survive_a_killed_receiver_and_land_once(lake: Path) -> None:
    server = serve_receiver(default_spool_dir(lake), host="127.0.0.1", port=0)
    provider, memory = traced(OTLPSpanExporter(endpoint=endpoint(server), timeout=10), batch=False)
    run_agents(provider)
    provider.shutdown()
    stop_receiver(server)  # the receiver is gone before anything was ingested
    spans = memory.get_finished_spans()
    assert len(spans) == 3 * RUNS and len(spooled_files(default_spool_dir(lake))) == 3 * RUNS

    first = CliRunner().invoke(cli, ["--lake", str(lake), "ingest"])
    again = CliRunner().invoke(cli, ["--lake", str(lake), "ingest"])
    assert first.exit_code == 0 and again.exit_code == 0, first.output + again.output
    assert "nothing to ingest" in again.output and spooled_files(default_spool_dir(lake)) == []

    got = Lake(lake).connect().execute(
        "select span_id, count(distinct event_id), count(*) from events group by span_id"
    ).fetchall()
    want = {format(s.context.span_id, "016x") for s in spans}
    assert {span_id for span_id, _, _ in got} == want
    assert all(distinct == total for _, distinct, total in got)
    traces = Lake(lake).connect().execute("select count(distinct trace_id) from events").fetchall()
    assert traces == [(RUNS,)]
