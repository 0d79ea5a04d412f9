"""Reliability benchmark (issue 25): the long variants of `tests/reliability/`, with the figures printed.

Receiver sections (each against `agentwatch receive` in a process of its own, on 127.0.0.1):

- `memory`: one request of 238k tiny spans (12 MB, plain and gzip), one 16 MB request of 10 spans with
  large array attributes, three of those at once: the receiver's peak RSS (VmHWM), its CPU seconds,
  the answer and its time. `--code DIR` runs the receiver from another checkout's packages (a folder
  holding an `agentwatch` package with `ingest` beside it), for before/after figures.
- `capacity`: requests of 512 GenAI spans posted back to back (one client, then four): spans
  acknowledged per second and per receiver CPU second (`--code` too).
- `load`: the real OpenTelemetry SDK (BatchSpanProcessor) exporting at a steady rate for `--seconds`
  over HTTP and gRPC, then a burst, with `agentwatch ingest` every `--ingest-every` seconds: spans
  sent, acknowledged and stored (acknowledged must be a subset of stored, each span once), receiver
  peak RSS, latency from a span's start to its batch's commit in the lake.
- `abuse`: a normal client posting batches at a steady rate beside slow-header and slow-body senders,
  chunked bodies that never end, oversize bodies and multi-member gzip bodies: the normal client's
  answers (200/503/other), its latency, the receiver's peak RSS, and acknowledged against stored.
- `kill`: kill -9 of the receiver mid-spool, `--seeds` times: partial files left and removed,
  acknowledged against stored, `verify`.

    python bench/bench_reliability.py receiver-memory [--code DIR]
    python bench/bench_reliability.py receiver-capacity [--requests 200] [--code DIR]
    python bench/bench_reliability.py receiver-load [--rate 5000] [--seconds 60]
    python bench/bench_reliability.py receiver-abuse [--seconds 30]
    python bench/bench_reliability.py receiver-kill [--seeds 6]
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from agentwatch.ingest.receiver.pieces import to_otlp_json  # noqa: E402
from tests.reliability.receiver_support import (  # noqa: E402
    ReceiverProcess,
    free_port,
    span_ids,
    spans_request,
    watch_for,
)

AGENTWATCH = str(Path(sys.executable).with_name("agentwatch"))
PROTOBUF, JSON = "application/x-protobuf", "application/json"


class Receiver(ReceiverProcess):
    """The receiver process, with its peak RSS and CPU seconds; HTTP and gRPC."""

    def __init__(self, lake: Path, log: Path, code: str | None = None, grpc: bool = False):
        super().__init__(lake, free_port(), log)
        self.grpc_port = free_port() if grpc else 0
        self.code = code

    def start(self) -> None:
        with open(self.log, "ab") as out:
            env = {**os.environ, "PYTHONUNBUFFERED": "1", **({"PYTHONPATH": self.code} if self.code else {})}
            self.process = subprocess.Popen(
                [AGENTWATCH, "--lake", str(self.lake), "receive", "--port", str(self.port), "--grpc-port",
                 str(self.grpc_port)], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=self.code or None)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the receiver did not start: {self.log.read_text()[-2000:]}")

    def peak_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system


def post(port: int, body: bytes, *, gzipped: bool = False, timeout: float = 300, content_type: str = PROTOBUF
         ) -> tuple[int | None, float]:
    """The answer's status (None: the connection broke) and seconds to it."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": content_type, **({"Content-Encoding": "gzip"} if gzipped else {})}
    try:
        conn.request("POST", "/v1/traces", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    except (OSError, http.client.HTTPException):
        return None, time.monotonic() - started
    finally:
        conn.close()


def post_into(answers: list, port: int, body: bytes, gzipped: bool, content_type: str = PROTOBUF) -> None:
    """`post`, its answer appended to `answers` (for a thread)."""
    answers.append(post(port, body, gzipped=gzipped, content_type=content_type))


def ingest_every(lake: Path, stop: threading.Event, seconds: float, took: list[float]) -> None:
    """`agentwatch ingest` every `seconds` until `stop` (what the guard flow does)."""
    while not stop.wait(seconds):
        started = time.monotonic()
        ingest(lake)
        took.append(time.monotonic() - started)


def ingest(lake: Path) -> str:
    done = subprocess.run([AGENTWATCH, "--lake", str(lake), "ingest"], capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(done.stdout + done.stderr)
    return done.stdout


def stored(lake: Path) -> dict[str, int]:
    """Events per span id in the lake."""
    from agentwatch.lake import Lake

    return dict(Lake(lake).connect().execute("select span_id, count(*) from events group by span_id").fetchall())


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else (values[0] if values else 0.0)


# --- memory --------------------------------------------------------------------------------------

def receiver_memory(args: argparse.Namespace, work: Path) -> None:
    tiny = spans_request(238_000, seed=4, traces=238_000, bare=True).SerializeToString()
    arrays = spans_request(10, seed=2, array_values=400_000).SerializeToString()
    json_arrays = orjson.dumps(to_otlp_json(spans_request(2, seed=2, array_values=450_000)))  # 900k objects
    cases = [("238k tiny spans, plain", [(tiny, False, PROTOBUF)]),
             ("238k tiny spans, gzip", [(gzip.compress(tiny), True, PROTOBUF)]),
             ("10 spans of large arrays", [(arrays, False, PROTOBUF)]),
             ("3 x 10 spans of large arrays at once", [(arrays, False, PROTOBUF)] * 3),
             (f"2 spans of large arrays as OTLP/JSON ({len(json_arrays) / 1e6:.0f} MB)", [(json_arrays, False, JSON)])]
    print(f"receiver code: {args.code or 'this checkout'}; bodies: tiny {len(tiny) / 1e6:.1f} MB "
          f"({len(gzip.compress(tiny)) / 1e6:.1f} MB gzipped), arrays {len(arrays) / 1e6:.1f} MB")
    for name, bodies in cases:
        lake = work / f"memory-{len(list(work.iterdir()))}"
        receiver = Receiver(lake, work / "memory.log", args.code)
        receiver.start()
        idle_mb, cpu_before = receiver.peak_mb(), receiver.cpu_seconds()
        answers: list[tuple[int | None, float]] = []
        threads = [threading.Thread(target=post_into, args=(answers, receiver.port, b, g, t)) for b, g, t in bodies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        time.sleep(0.5)  # a cut request may still be decoding: count its CPU and memory too
        peak, cpu = receiver.peak_mb(), receiver.cpu_seconds() - cpu_before
        receiver.stop()
        spool = sorted((lake / "_spool" / "otlp").glob("*.jsonl"))
        print(f"  {name}: answers {[a[0] for a in answers]} in {max(a[1] for a in answers):.1f} s; receiver peak "
              f"{peak:.0f} MB (idle {idle_mb:.0f} MB), {cpu:.1f} CPU s; spool files {len(spool)}, "
              f"{sum(p.stat().st_size for p in spool) / 1e6:.1f} MB")


# --- capacity ------------------------------------------------------------------------------------

def receiver_capacity(args: argparse.Namespace, work: Path) -> None:
    bodies = [spans_request(512, seed=5000 + n, traces=16).SerializeToString() for n in range(args.requests)]
    for clients in (1, 4):
        receiver = Receiver(work / f"capacity-{clients}", work / "capacity.log", args.code)
        receiver.start()
        cpu_before, started = receiver.cpu_seconds(), time.monotonic()
        answers: list[tuple[int | None, float]] = []
        threads = [threading.Thread(target=post_all, args=(answers, receiver.port, bodies[i::clients]))
                   for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall, cpu = time.monotonic() - started, receiver.cpu_seconds() - cpu_before
        peak = receiver.peak_mb()
        receiver.stop()
        spans = 512 * sum(1 for status, _ in answers if status == 200)
        print(f"  {clients} client(s), {len(bodies)} requests of 512 spans: {spans:,} acknowledged in {wall:.1f} s "
              f"({spans / wall:,.0f} spans/s); receiver {cpu:.1f} CPU s ({spans / cpu:,.0f} spans per CPU second); "
              f"p50 {percentile([a[1] for a in answers], 50) * 1000:.0f} ms; peak {peak:.0f} MB")


def post_all(answers: list, port: int, bodies: list[bytes]) -> None:
    """Post bodies one after another (one client)."""
    for body in bodies:
        post_into(answers, port, body, False)


# --- load ----------------------------------------------------------------------------------------

SENDER = """
import sys, time, json
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult
protocol, endpoint, out = sys.argv[1], sys.argv[2], sys.argv[6]
rate, seconds, burst = int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
if protocol == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as Base
    kwargs = {"endpoint": endpoint, "insecure": True, "timeout": 10}
else:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as Base
    kwargs = {"endpoint": endpoint + "/v1/traces", "timeout": 10}
acked, failed = [], []
class Recording(Base):
    def export(self, spans):
        result = super().export(spans)
        ids = [format(s.context.span_id, "016x") for s in spans]
        (acked if result == SpanExportResult.SUCCESS else failed).extend(ids)
        return result
provider = TracerProvider(resource=Resource.create({"service.name": "bench-agent"}))
provider.add_span_processor(BatchSpanProcessor(Recording(**kwargs), max_queue_size=burst + rate * 10 + 2048,
                                               max_export_batch_size=512, schedule_delay_millis=200))
tracer = provider.get_tracer("agent-sdk", "1.0")
attrs = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "read_file"}
sent, started = 0, time.monotonic()
def emit(n):
    for i in range(n):
        with tracer.start_as_current_span("execute_tool read_file",
                                          attributes={**attrs, "gen_ai.conversation.id": f"conv-{i % 50}"}):
            pass
while time.monotonic() - started < seconds:
    due = int((time.monotonic() - started) * rate) - sent
    if due > 0:
        emit(due)
        sent += due
    time.sleep(0.01)
steady = time.monotonic() - started
emit(burst)
sent += burst
provider.shutdown()
json.dump({"sent": sent, "steady_seconds": steady, "acked": acked, "failed": failed}, open(out, "w"))
"""


def receiver_load(args: argparse.Namespace, work: Path) -> None:
    for protocol in ("http", "grpc"):
        lake = work / f"load-{protocol}"
        receiver = Receiver(lake, work / f"load-{protocol}.log", grpc=protocol == "grpc")
        receiver.start()
        stop = threading.Event()
        ingests: list[float] = []
        loop = threading.Thread(target=ingest_every, args=(lake, stop, args.ingest_every, ingests), daemon=True)
        loop.start()
        endpoint = (f"http://127.0.0.1:{receiver.grpc_port}" if protocol == "grpc"
                    else f"http://127.0.0.1:{receiver.port}")
        out = work / f"load-{protocol}.json"
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", SENDER, protocol, endpoint, str(args.rate), str(args.seconds),
                        str(args.burst), str(out)], check=True)
        sending = time.monotonic() - started
        stop.set()
        loop.join()
        peak = receiver.peak_mb()
        receiver.stop()
        ingest(lake)
        result = orjson.loads(out.read_bytes())
        acked, lake_spans = set(result["acked"]), stored(lake)
        latency = commit_latency(lake)
        print(f"  {protocol}: sent {result['sent']:,} spans ({args.rate:,}/s for {result['steady_seconds']:.0f} s, "
              f"then a burst of {args.burst:,}) in {sending:.0f} s; acknowledged {len(acked):,}, failed "
              f"{len(result['failed']):,}; stored {len(lake_spans):,}; acknowledged but missing "
              f"{len(acked - set(lake_spans)):,}, doubled {sum(1 for n in lake_spans.values() if n != 2):,}; "
              f"receiver peak {peak:.0f} MB; ingest every {args.ingest_every} s ({len(ingests)} runs, "
              f"{max(ingests, default=0):.1f} s at most); span start -> committed: p50 {latency[0]:.1f} s, "
              f"p95 {latency[1]:.1f} s, max {latency[2]:.1f} s")


def commit_latency(lake: Path) -> tuple[float, float, float]:
    """Seconds from a span's start (its events' ts) to the commit of the batch that stored it."""
    from agentwatch.lake import Lake

    rows = Lake(lake).connect().execute(
        "select epoch(m.committed_at::timestamptz) - epoch(min(e.ts)) from events e "
        "join manifest m on m.path = e.source_file and m.status = 'ingested' group by e.span_id, m.committed_at"
    ).fetchall()
    values = [float(r[0]) for r in rows]
    return (percentile(values, 50), percentile(values, 95), max(values)) if values else (0.0, 0.0, 0.0)


# --- abuse ---------------------------------------------------------------------------------------

def slow_header(port: int, stop: threading.Event) -> None:
    _abuse(port, stop, b"POST /v1/traces HTTP/1.1\r\nX-Slow: ", b"x")


def slow_body(port: int, stop: threading.Event) -> None:
    _abuse(port, stop, b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                       b"Content-Length: 67108864\r\n\r\n", b"\0")


def endless_chunks(port: int, stop: threading.Event) -> None:
    _abuse(port, stop, b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\n", b"1\r\n\0\r\n")


def oversize(port: int, stop: threading.Event) -> None:
    body = b"\0" * (80 << 20)
    while not stop.is_set():
        post(port, body, timeout=30)


def _abuse(port: int, stop: threading.Event, head: bytes, trickle: bytes) -> None:
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(head)
                while not stop.wait(0.5):
                    sock.sendall(trickle)
        except OSError:
            continue


def receiver_abuse(args: argparse.Namespace, work: Path) -> None:
    lake = work / "abuse"
    receiver = Receiver(lake, work / "abuse.log", args.code)
    receiver.start()
    stop = threading.Event()
    abusers = [threading.Thread(target=kind, args=(receiver.port, stop), daemon=True)
               for kind in (slow_header, slow_body, endless_chunks, oversize) for _ in range(args.abusers)]
    for thread in abusers:
        thread.start()
    answers: dict[int | None, int] = {}
    latencies: list[float] = []
    acked: set[str] = set()
    started, n = time.monotonic(), 0
    while time.monotonic() - started < args.seconds:
        request = spans_request(200, seed=1000 + n, traces=4)
        body = request.SerializeToString()
        half = len(body) // 2
        status, seconds = post(receiver.port, gzip.compress(body[:half]) + gzip.compress(body[half:]), gzipped=True)
        answers[status] = answers.get(status, 0) + 1
        latencies.append(seconds)
        if status == 200:
            acked |= span_ids(request)
        n += 1
        time.sleep(max(0.0, started + n * args.interval - time.monotonic()))
    stop.set()
    peak = receiver.peak_mb()
    receiver.stop()
    ingest(lake)
    lake_spans = stored(lake)
    print(f"  normal client beside {args.abusers} of each abuser (slow header, slow body declaring 64 MiB, endless "
          f"chunks, 80 MiB bodies) for {args.seconds} s: {n} requests of 200 spans in two gzip members, answers "
          f"{answers}; latency p50 {percentile(latencies, 50) * 1000:.0f} ms, p95 "
          f"{percentile(latencies, 95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms; receiver peak "
          f"{peak:.0f} MB; acknowledged {len(acked):,} spans, missing {len(acked - set(lake_spans)):,}")


# --- kill ----------------------------------------------------------------------------------------

def receiver_kill(args: argparse.Namespace, work: Path) -> None:
    for seed in range(1, args.seeds + 1):
        rng = random.Random(seed)
        lake = work / f"kill-{seed}"
        receiver = Receiver(lake, work / f"kill-{seed}.log")
        receiver.start()
        spool = lake / "_spool" / "otlp"
        acked = set()
        requests = [spans_request(rng.choice([50, 5_000, 30_000]), seed=seed * 1000 + i, traces=20) for i in range(6)]
        killed_at = rng.randrange(len(requests))
        answers: list[tuple[int | None, float]] = []
        for i, request in enumerate(requests):
            if i != killed_at:
                status, _ = post(receiver.port, request.SerializeToString())
                acked |= span_ids(request) if status == 200 else set()
                continue
            body = request.SerializeToString()
            sender = threading.Thread(target=post_into, args=(answers, receiver.port, body, False))
            sender.start()
            next(watch_for(spool, ".*.tmp", 60), None)
            time.sleep(rng.uniform(0, 1.0))
            receiver.kill()
            sender.join()
            left = len(list(spool.glob(".*.tmp")))
            receiver.start()
            removed = left - len(list(spool.glob(".*.tmp")))
            acked |= span_ids(request) if answers[0][0] == 200 else set()
            status, _ = post(receiver.port, request.SerializeToString())  # the exporter's retry
            acked |= span_ids(request) if status == 200 else set()
        receiver.stop()
        ingest(lake)
        lake_spans = stored(lake)
        verify = subprocess.run([AGENTWATCH, "--lake", str(lake), "verify"], capture_output=True, check=False)
        spans = len(span_ids(requests[killed_at]))
        print(f"  seed {seed}: killed while spooling request {killed_at} ({spans:,} spans; answered "
              f"{answers[0][0]}); partial files left {left}, removed "
              f"at restart {removed}; acknowledged {len(acked):,} spans, missing {len(acked - set(lake_spans)):,}, "
              f"doubled {sum(1 for v in lake_spans.values() if v != 2)}; verify exit {verify.returncode}")


SECTIONS = {"receiver-memory": receiver_memory, "receiver-capacity": receiver_capacity,
            "receiver-load": receiver_load, "receiver-abuse": receiver_abuse, "receiver-kill": receiver_kill}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("section", choices=sorted(SECTIONS))
    parser.add_argument("--code", help="memory, capacity, abuse: run the receiver from this folder's packages")
    parser.add_argument("--requests", type=int, default=200, help="receiver-capacity: requests of 512 spans")
    parser.add_argument("--rate", type=int, default=5000, help="receiver-load: spans per second")
    parser.add_argument("--seconds", type=float, default=60, help="receiver-load / -abuse: how long")
    parser.add_argument("--burst", type=int, default=100_000, help="receiver-load: spans in the burst")
    parser.add_argument("--ingest-every", type=float, default=5.0, help="receiver-load: seconds between ingests")
    parser.add_argument("--abusers", type=int, default=2, help="receiver-abuse: senders of each kind")
    parser.add_argument("--interval", type=float, default=0.2, help="receiver-abuse: seconds between requests")
    parser.add_argument("--seeds", type=int, default=6, help="receiver-kill: runs")
    parser.add_argument("--work", type=Path, help="scratch folder (a temporary one by default)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.work) as work:
        print(f"{args.section}:")
        SECTIONS[args.section](args, Path(work))


if __name__ == "__main__":
    main()
