"""OTLP benchmark: the real OpenTelemetry SDK exporter -> `agentwatch receive` -> spool -> `ingest`.

Each stage in its own process: (1) the SDK (BatchSpanProcessor, OTLP/HTTP protobuf, or OTLP/gRPC)
exports GenAI agent runs (an invoke_agent span over a chat span and an execute_tool span) to a
receiver started as `agentwatch receive`; (2) `agentwatch ingest` takes the spool into an empty lake.
Printed: spans/s of each stage and end to end, peak RSS of receiver and ingest, and beside them the
native JSONL ingest of as many events as the spans became, measured the same way.

    python bench/bench_otlp.py [--spans 60000] [--protocol http|grpc] [--out bench/out]
    python bench/bench_otlp.py --spool-only --spans 150000 --out bench/out   # build a spool, keep it
    python bench/bench_otlp.py --reuse-spool --out bench/out                 # ingest a kept spool again
    python bench/bench_otlp.py --reuse-spool --spool-only --widen 2          # add 2 copies as other runs
    python bench/bench_otlp.py --burst 6 --burst-mb 41   # concurrent large bodies: receiver peak RSS
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))
from bench_ingest import OURS, generate, measure  # noqa: E402

SEND = """
import json, sys
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind
protocol, endpoint, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
# a queue that holds every span (the SDK drops spans when its queue is full); exports that time out on
# a loaded machine still lose spans, so ingest is measured on the spans the spool holds
if protocol == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    exporter = OTLPSpanExporter(endpoint=endpoint, insecure=True, timeout=30)
else:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    exporter = OTLPSpanExporter(endpoint=endpoint + "/v1/traces", timeout=30)
provider = TracerProvider(resource=Resource.create({"service.name": "support-bot"}))
provider.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=max(3 * runs, 2048), max_export_batch_size=512))
tracer = provider.get_tracer("agent-sdk", "1.0")
for n in range(runs):
    root = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner",
            "gen_ai.conversation.id": f"conv-{n}"}
    with tracer.start_as_current_span("invoke_agent planner", attributes=root):
        chat = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 10 + n % 90, "gen_ai.usage.output_tokens": 5,
                "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [
                    {"type": "text", "content": f"look at file {n} and summarise it"}]}]),
                "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": [
                    {"type": "tool_call", "id": f"call_{n}", "name": "read_file", "arguments": {"path": f"/f{n}"}}]}])}
        with tracer.start_as_current_span("chat gpt-4o", kind=SpanKind.CLIENT, attributes=chat):
            pass
        tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "read_file",
                "gen_ai.tool.call.id": f"call_{n}", "gen_ai.tool.call.result": f"contents of file {n}"}
        with tracer.start_as_current_span("execute_tool read_file", attributes=tool):
            pass
provider.shutdown()
"""
INGEST = OURS.replace("ingest_paths(Path(sys.argv[2]), [Path(sys.argv[1])])",
                      "ingest_paths(Path(sys.argv[2]), sorted(Path(sys.argv[1]).glob('*.jsonl')))")
INGEST = INGEST.replace("f = report.files[0]\nassert f.reconciles() and f.events_written > 0, f\n"
                        "print(f\"written={f.events_written} quarantined={f.quarantined} "
                        "redactions={f.redactions}\", file=sys.stderr)",
                        "assert all(f.reconciles() for f in report.files)\n"
                        "print(f\"written={sum(f.events_written for f in report.files)} "
                        "quarantined={sum(f.quarantined for f in report.files)}\", file=sys.stderr)")
AGENTWATCH = [sys.executable, "-c", "from agentwatch.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_receiver(spool: Path, lake: Path, protocol: str) -> tuple[subprocess.Popen, str]:
    http_port, grpc_port = free_port(), free_port()
    cmd = [*AGENTWATCH, "--lake", str(lake), "receive", "--port", str(http_port),
           "--grpc-port", str(grpc_port if protocol == "grpc" else 0), "--spool", str(spool)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = grpc_port if protocol == "grpc" else http_port
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("receiver did not start")


def run_sender(protocol: str, endpoint: str, runs: int, receiver: psutil.Process) -> tuple[float, float, float]:
    """Seconds to export every span (the SDK flushes at shutdown), the receiver's peak RSS (MB) and the
    CPU seconds it spent (beside the wall time: which side of the wire was the limit)."""
    cpu_before = sum(receiver.cpu_times()[:2])
    started = time.perf_counter()
    sender = subprocess.Popen([sys.executable, "-c", SEND, protocol, endpoint, str(runs)])
    peak = 0
    while sender.poll() is None:
        peak = max(peak, receiver.memory_info().rss)
        time.sleep(0.05)
    if sender.returncode:
        raise SystemExit("sender failed")
    return time.perf_counter() - started, peak / 2**20, sum(receiver.cpu_times()[:2]) - cpu_before


def big_body(mb: int) -> bytes:
    """An OTLP/JSON trace request of about `mb` MB: GenAI chat spans with a long prompt each."""
    prompt = json.dumps([{"role": "user", "parts": [{"type": "text", "content": "summarise this log " * 200}]}])
    spans, size, n = [], 0, 0
    while size < mb * 1_000_000:
        attrs = [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                 {"key": "gen_ai.conversation.id", "value": {"stringValue": f"conv-{n // 10}"}},
                 {"key": "gen_ai.input.messages", "value": {"stringValue": prompt}}]
        span = {"traceId": f"{n // 10 + 1:032x}", "spanId": f"{n + 1:016x}", "name": "chat", "kind": 3,
                "startTimeUnixNano": str(1_767_225_600_000_000_000 + n), "endTimeUnixNano":
                str(1_767_225_600_000_000_000 + n + 1000), "attributes": attrs}
        size += len(json.dumps(span))
        spans.append(span)
        n += 1
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "bot"}}]}
    return json.dumps({"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}).encode()


def run_burst(count: int, mb: int, out: Path) -> None:
    """`count` concurrent bodies of `mb` MB to one receiver: statuses and the receiver's peak RSS."""
    import concurrent.futures
    import http.client

    work = out / "otlp-burst"
    shutil.rmtree(work, ignore_errors=True)
    body = big_body(mb)
    proc, endpoint = start_receiver(work / "spool", work / "lake", "http")
    receiver, port, peak = psutil.Process(proc.pid), int(endpoint.rsplit(":", 1)[1]), 0

    def send(_: int) -> int | str:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        try:
            conn.request("POST", "/v1/traces", body=body, headers={"Content-Type": "application/json"})
            return conn.getresponse().status
        except OSError as exc:
            return type(exc).__name__
        finally:
            conn.close()

    started = time.perf_counter()
    try:
        with concurrent.futures.ThreadPoolExecutor(count) as pool:
            pending = [pool.submit(send, i) for i in range(count)]
            while not all(f.done() for f in pending):
                peak = max(peak, receiver.memory_info().rss)
                time.sleep(0.05)
            statuses = sorted((f.result() for f in pending), key=str)
    finally:
        proc.terminate()
        proc.wait(10)
    row = {"bodies": count, "body_mb": round(len(body) / 1e6, 1), "statuses": statuses,
           "seconds": round(time.perf_counter() - started, 1), "receiver_peak_rss_mb": round(peak / 2**20)}
    print(json.dumps(row))


def spooled_spans(spool: Path) -> int:
    """Spans the spool holds (each OTLP/JSON span has one "spanId" key): what ingest is measured on."""
    return sum(p.read_bytes().count(b'"spanId"') for p in spool.glob("*.jsonl"))


def widen_spool(spool: Path, copies: int) -> None:
    """Add `copies` copies of every spool file as other agent runs (fresh trace ids and conversation
    ids): a spool several times larger than the SDK fills on a loaded machine, of the same requests."""
    originals = sorted(spool.glob("*.jsonl"))
    for k in range(1, copies + 1):
        for path in originals:
            body = re.sub(rb'"traceId":"[0-9a-f]{4}', b'"traceId":"%04x' % (0xc000 + k), path.read_bytes())
            body = body.replace(b"conv-", b"conv-%d-" % k)
            (spool / f"{path.stem}-copy{k}.jsonl").write_bytes(body)


def send(args: argparse.Namespace, spool: Path, lake: Path) -> dict:
    """The SDK -> receiver stage; the spool it leaves is kept for the ingest stage."""
    runs = args.spans // 3
    proc, endpoint = start_receiver(spool, lake, args.protocol)
    try:
        send_s, receiver_mb, receiver_cpu = run_sender(args.protocol, endpoint, runs, psutil.Process(proc.pid))
    finally:
        proc.terminate()
        proc.wait(10)
    return {"send_s": round(send_s, 2), "receive_spans_per_s": round(runs * 3 / send_s),
            "receiver_rss_mb": round(receiver_mb), "receiver_cpu_s": round(receiver_cpu, 2)}


def ingest(work: Path, spool: Path) -> dict:
    """The spool -> lake stage into an empty lake, and the native JSONL ingest of as many events."""
    lake = work / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    shutil.rmtree(work / "native-lake", ignore_errors=True)
    spans = spooled_spans(spool)
    ingest_s, ingest_mb = measure(INGEST, str(spool), str(lake))
    events = int(subprocess.run(
        [*AGENTWATCH, "--lake", str(lake), "sql", "select count(*) as n from events",
         "--format", "csv"], capture_output=True, text=True, check=True).stdout.split()[-1])
    native = work / "native.jsonl"
    generate(native, events)
    native_s, native_mb = measure(OURS, str(native), str(work / "native-lake"))
    return {
        "spans": spans, "events": events, "spool_files": len(list(spool.glob("*.jsonl"))),
        "spool_mb": round(sum(p.stat().st_size for p in spool.glob("*.jsonl")) / 1e6, 1),
        "ingest_s": round(ingest_s, 2), "ingest_spans_per_s": round(spans / ingest_s),
        "ingest_events_per_s": round(events / ingest_s), "ingest_rss_mb": round(ingest_mb),
        "native_s": round(native_s, 2), "native_events_per_s": round(events / native_s),
        "native_rss_mb": round(native_mb),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=60_000)
    parser.add_argument("--protocol", choices=("http", "grpc"), default="http")
    parser.add_argument("--spool-only", action="store_true", help="send and keep the spool; no ingest")
    parser.add_argument("--reuse-spool", action="store_true", help="ingest the spool a previous run kept")
    parser.add_argument("--widen", type=int, default=0, help="add this many copies of the spool's files")
    parser.add_argument("--burst", type=int, default=0, help="send this many large bodies at once instead")
    parser.add_argument("--burst-mb", type=int, default=41)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    if args.burst:
        run_burst(args.burst, args.burst_mb, args.out)
        return
    work = args.out / f"otlp-{args.protocol}"
    spool = work / "spool"
    row: dict = {"protocol": args.protocol}
    if not args.reuse_spool:
        shutil.rmtree(work, ignore_errors=True)
        row |= send(args, spool, work / "lake")
        print(f"{args.spans // 3 * 3:,} spans sent ({args.protocol}), {spooled_spans(spool):,} spooled\n"
              f"  SDK -> receiver -> spool : {row['send_s']:6.2f}s  {row['receive_spans_per_s']:>8,} spans/s  "
              f"receiver peak {row['receiver_rss_mb']} MB, {row['receiver_cpu_s']:.1f} CPU s")
    if args.widen:
        widen_spool(spool, args.widen)
    if not args.spool_only:
        row |= ingest(work, spool)
        print(f"{row['spans']:,} spans in {row['spool_files']} spool files ({row['spool_mb']} MB) -> "
              f"{row['events']:,} events\n"
              f"  spool -> ingest -> lake  : {row['ingest_s']:6.2f}s  {row['ingest_spans_per_s']:>8,} spans/s  "
              f"({row['ingest_events_per_s']:,} events/s)  peak {row['ingest_rss_mb']} MB\n"
              f"  native JSONL, {row['events']:,} events: {row['native_s']:6.2f}s  "
              f"{row['native_events_per_s']:,} events/s  peak {row['native_rss_mb']} MB")
    if "send_s" in row and "ingest_s" in row:
        row["end_to_end_spans_per_s"] = round(row["spans"] / (row["send_s"] + row["ingest_s"]))
        print(f"  end to end               : {row['end_to_end_spans_per_s']:>8,} spans/s")
    print(json.dumps(row))


if __name__ == "__main__":
    main()
