"""`/v1/metrics` (and gRPC MetricsService): the real OpenTelemetry SDK's metric exporters send Claude
Code's usage counters to the receiver; ingest lands every data point in `metric_points` once, and
`session_usage` adds them up per agent and session, cumulative and delta alike."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcMetricExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, MetricExporter, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from agentwatch.cli import cli
from agentwatch.ingest.receiver.grpc_server import serve_grpc, stop_grpc
from agentwatch.ingest.receiver.http_server import ReceiverServer, serve_receiver, stop_receiver
from agentwatch.ingest.receiver.spool import default_spool_dir, spooled_files
from agentwatch.lake import Lake
from agentwatch.schema import METRIC_POINT_CONTRACT
from tests.ingest.receiver.test_chunked import read_response
from tests.ingest.receiver.test_http_server import JSON, post
from tests.support.paths import ROOT

SESSION = "9f6c2e1a-7b3d-4e8f-a1c2-d3e4f5a6b7c8"
ACCOUNT = "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
POINT = {"session.id": SESSION, "user.account_uuid": ACCOUNT, "organization.id": "org-1",
         "user.email": "dev@example.com", "terminal.type": "vscode", "app.version": "2.1.200"}


@pytest.fixture
def receiver(lake: Path) -> Iterator[ReceiverServer]:
    server = serve_receiver(default_spool_dir(lake), host="127.0.0.1", port=0)
    yield server
    stop_receiver(server)


def claude_code_usage(exporter: MetricExporter) -> None:
    """Two export rounds of Claude Code's usage counters (as `claude_code.*` with OTEL_METRICS_EXPORTER=otlp)."""
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(resource=Resource.create({"service.name": "claude-code", "service.version": "2.1.200"}),
                             metric_readers=[reader])
    meter = provider.get_meter("com.anthropic.claude_code", "2.1.200")
    tokens = meter.create_counter("claude_code.token.usage", unit="tokens", description="Number of tokens used")
    cost = meter.create_counter("claude_code.cost.usage", unit="USD", description="Cost of the session")
    lines = meter.create_counter("claude_code.lines_of_code.count", unit="count")
    commits = meter.create_counter("claude_code.commit.count", unit="count")
    pulls = meter.create_counter("claude_code.pull_request.count", unit="count")
    latency = meter.create_histogram("claude_code.api.duration", unit="ms")
    model = {**POINT, "model": "claude-sonnet-4-5"}
    for round_ in range(2):
        tokens.add(1200, {**model, "type": "input"})
        tokens.add(300, {**model, "type": "output"})
        tokens.add(5000, {**model, "type": "cacheRead"})
        cost.add(0.25, model)
        lines.add(40, {**POINT, "type": "added"})
        lines.add(7 + round_, {**POINT, "type": "removed"})
        latency.record(800 + 100 * round_, model)
        if round_:
            commits.add(1, POINT)
            pulls.add(1, POINT)
        reader.force_flush()
    provider.shutdown()


EXPECTED = {  # (metric, usage type) -> total over both rounds
    ("claude_code.token.usage", "input"): 2400, ("claude_code.token.usage", "output"): 600,
    ("claude_code.token.usage", "cacheRead"): 10000, ("claude_code.cost.usage", None): 0.5,
    ("claude_code.lines_of_code.count", "added"): 80, ("claude_code.lines_of_code.count", "removed"): 15,
    ("claude_code.commit.count", None): 1, ("claude_code.pull_request.count", None): 1,
    ("claude_code.api.duration", None): 1700,
}


def ingest(lake: Path) -> str:
    result = CliRunner().invoke(cli, ["--lake", str(lake), "ingest"])
    assert result.exit_code == 0, result.output
    return result.output


def usage(lake: Path) -> dict[tuple[str, str | None], float]:
    rows = Lake(lake).connect().execute(
        "select metric_name, usage_type, total from session_usage where agent_id = 'claude-code' and session_id = ?",
        [SESSION]).fetchall()
    return {(name, kind): round(total, 6) for name, kind, total in rows}


@pytest.mark.parametrize("temporality", [AggregationTemporality.CUMULATIVE, AggregationTemporality.DELTA],
                         ids=["cumulative", "delta"])
def test_sdk_metric_exporter_over_http_lands_in_metric_points(
    receiver: ReceiverServer, lake: Path, temporality: AggregationTemporality
) -> None:
    url = f"http://127.0.0.1:{receiver.server_address[1]}/v1/metrics"
    claude_code_usage(OTLPMetricExporter(endpoint=url, timeout=10,
                                         preferred_temporality={Counter: temporality, Histogram: temporality}))
    assert len(spooled_files(receiver.spool.folder)) >= 2
    output = ingest(lake)
    assert "otlp_metrics" in output and "+ 0 quarantined" in output
    assert usage(lake) == EXPECTED
    con = Lake(lake).connect()
    rows = con.execute("select distinct agent_id, session_id, user_id, model, temporality from metric_points "
                       "where metric_name = 'claude_code.cost.usage'").fetchall()
    assert rows == [("claude-code", SESSION, ACCOUNT, "claude-sonnet-4-5", temporality.name.lower())]
    histogram = con.execute("select count, min, max, detail from metric_points where metric_type = 'histogram' "
                            "order by ts desc limit 1").fetchone()
    assert histogram[0] == (2 if temporality == AggregationTemporality.CUMULATIVE else 1)
    assert "bucketCounts" in orjson.loads(histogram[3])
    assert con.execute("select bool_and(reconciled) from manifest").fetchone() == (True,)


def test_sdk_metric_exporter_over_grpc_lands_too(lake: Path) -> None:
    grpc_receiver = serve_grpc(default_spool_dir(lake), "127.0.0.1", 0)
    try:
        claude_code_usage(GrpcMetricExporter(endpoint=f"http://127.0.0.1:{grpc_receiver.port}", insecure=True,
                                             timeout=10))
    finally:
        stop_grpc(grpc_receiver)
    ingest(lake)
    assert usage(lake) == EXPECTED


def metrics_request(*metrics: dict) -> dict:
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "claude-code"}}]}
    return {"resourceMetrics": [{"resource": resource, "scopeMetrics": [
        {"scope": {"name": "com.anthropic.claude_code"}, "metrics": list(metrics)}]}]}


def counter(name: str, *values: int, session: str = SESSION, extra: dict | None = None) -> dict:
    attributes = [{"key": "session.id", "value": {"stringValue": session}},
                  *({"key": k, "value": {"stringValue": v}} for k, v in (extra or {}).items())]
    start = 1767225600000000000
    points = [{"attributes": attributes, "startTimeUnixNano": str(start),
               "timeUnixNano": str(start + (n + 1) * 10**9), "asInt": str(v)} for n, v in enumerate(values)]
    return {"name": name, "unit": "count", "sum": {"dataPoints": points, "aggregationTemporality": 1,
                                                   "isMonotonic": True}}


def test_a_bad_metric_is_rejected_by_its_points_and_quarantined(receiver: ReceiverServer, lake: Path) -> None:
    bad = counter("claude_code.commit.count", 1, 2)
    bad["sum"]["dataPoints"][1]["timeUnixNano"] = "yesterday"
    body = orjson.dumps(metrics_request(counter("claude_code.session.count", 1), bad))
    status, _, reply = post(receiver, body, JSON, path="/v1/metrics")
    assert status == 200
    partial = orjson.loads(reply)["partialSuccess"]
    assert partial["rejectedDataPoints"] == "2"
    assert partial["errorMessage"] == ("resourceMetrics[0].scopeMetrics[0].metrics[1]: sum.dataPoints[1]"
                                       ".timeUnixNano: expected integer, got 'yesterday'")
    assert "1 quarantined" in ingest(lake)
    con = Lake(lake).connect()
    assert con.execute("select metric_name, value from metric_points").fetchall() == [("claude_code.session.count", 1)]
    assert con.execute("select count(*) from quarantine where reason like '%timeUnixNano%'").fetchone() == (1,)


def test_a_retried_export_is_stored_once_and_secrets_are_masked(receiver: ReceiverServer, lake: Path) -> None:
    key = "sk-ant-api03-" + "Qx7vB2nR9tL4mK8pW3sD6fH1jG5cV0zA" * 3
    body = orjson.dumps(metrics_request(counter("claude_code.session.count", 1, extra={"note": f"key={key}"})))
    for _ in range(2):
        assert post(receiver, body, JSON, path="/v1/metrics")[0] == 200
    other = orjson.dumps(metrics_request(counter("claude_code.session.count", 1, extra={"note": f"key={key}"}),
                                         counter("claude_code.commit.count", 3)))
    assert post(receiver, other, JSON, path="/v1/metrics")[0] == 200  # the same point again, in another request
    ingest(lake)
    con = Lake(lake).connect()
    assert con.execute("select metric_name, redactions from metric_points order by 1").fetchall() == [
        ("claude_code.commit.count", 0), ("claude_code.session.count", 1)]
    stored = con.execute("select attributes from metric_points").fetchall()
    assert key not in str(stored)
    assert con.execute("select sum(points_written), sum(point_duplicates) from manifest").fetchone() == (2, 1)


def test_a_chunked_json_metrics_request_is_accepted(receiver: ReceiverServer, lake: Path) -> None:
    body = orjson.dumps(metrics_request(counter("claude_code.session.count", 1)))
    with socket.create_connection(("127.0.0.1", receiver.server_address[1]), timeout=10) as sock:
        sock.sendall(b"POST /v1/metrics HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        assert read_response(sock)[0] == 200
    ingest(lake)
    assert usage(lake) == {("claude_code.session.count", None): 1}


def test_the_contract_is_documented(lake: Path, tmp_path: Path) -> None:
    docs = (ROOT / "docs" / "inputs.md").read_text()
    for name, *_ in METRIC_POINT_CONTRACT:
        assert f"| `{name}` |" in docs
    events = tmp_path / "events.jsonl"
    event = {"ts": "2026-01-01T00:00:00Z", "agent_id": "a", "session_id": "s", "event_type": "user_prompt"}
    events.write_bytes(orjson.dumps(event) + b"\n")
    assert CliRunner().invoke(cli, ["--lake", str(lake), "ingest", str(events)]).exit_code == 0
    assert Lake(lake).connect().execute("select count(*) from session_usage").fetchone() == (0,)
    columns = [r[0] for r in Lake(lake).connect().execute("describe metric_points").fetchall()]
    assert columns == [name for name, *_ in METRIC_POINT_CONTRACT]  # the view exists before any metric
