"""Helpers of the receiver's reliability tests and bench: seeded OTLP requests, a throttling TCP proxy
(a slow client made of a real one), and an `agentwatch receive` process to kill."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

BASE_NS = 1767225600_000000000  # 2026-01-01T00:00:00Z


def spans_request(spans: int, seed: int, *, array_values: int = 0, traces: int = 1,
                  bare: bool = False) -> ExportTraceServiceRequest:
    """`spans` GenAI tool spans of agent `bot` over `traces` traces, ids from `seed`; each span may carry
    an int array attribute of `array_values` values; `bare` spans have a name and times only (~50 bytes)."""
    rng = random.Random(seed)
    request = ExportTraceServiceRequest()
    resource = request.resource_spans.add()
    pair = resource.resource.attributes.add()
    pair.key, pair.value.string_value = "service.name", "bot"
    scope = resource.scope_spans.add()
    scope.scope.name = "agent-sdk"
    trace_ids = [rng.randbytes(16) for _ in range(traces)]
    for n in range(spans):
        span = scope.spans.add()
        span.trace_id, span.span_id = trace_ids[n % traces], rng.randbytes(8)
        span.name = "op" if bare else "execute_tool ls"
        span.start_time_unix_nano = BASE_NS + n * 1000
        span.end_time_unix_nano = span.start_time_unix_nano + 500
        if bare:
            continue
        for key, text in (("gen_ai.operation.name", "execute_tool"), ("gen_ai.tool.name", "ls"),
                          ("gen_ai.conversation.id", f"conv-{seed}-{n % traces}")):
            pair = span.attributes.add()
            pair.key, pair.value.string_value = key, text
        if array_values:
            pair = span.attributes.add()
            pair.key = "sizes"
            pair.value.array_value.values.extend([AnyValue(int_value=7)] * array_values)
    return request


def span_ids(request: ExportTraceServiceRequest) -> set[str]:
    """The hex span ids of a request."""
    return {span.span_id.hex() for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrottledProxy:
    """A TCP proxy to `target` that passes the first `fast_bytes` a client sends at once, then one byte
    every `pause` seconds: a real client (gRPC, HTTP) made slow. Answers pass unthrottled."""

    def __init__(self, target: int, fast_bytes: int, pause: float):
        self.target, self.fast_bytes, self.pause = target, fast_bytes, pause
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.trickled = 0  # bytes passed slowly, over all connections: the throttle is working
        self._sockets: list[socket.socket] = [self.listener]
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while not self._stop.is_set():
                client, _ = self.listener.accept()
                upstream = socket.create_connection(("127.0.0.1", self.target))
                self._sockets += [client, upstream]
                threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
                threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, slow: bool) -> None:
        passed = 0
        with contextlib.suppress(OSError):
            while not self._stop.is_set() and (data := source.recv(65536 if not slow or passed < self.fast_bytes
                                                                  else 1)):
                if slow and passed >= self.fast_bytes:
                    time.sleep(self.pause)
                    self.trickled += len(data)
                sink.sendall(data)
                passed += len(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self._stop.set()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class ReceiverProcess:
    """`agentwatch receive` (HTTP only) in a process of its own, to kill -9 and start again."""

    def __init__(self, lake: Path, port: int, log: Path):
        self.lake, self.port, self.log = lake, port, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        script = Path(sys.executable).with_name("agentwatch")
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen([str(script), "--lake", str(self.lake), "receive", "--port", str(self.port),
                                             "--grpc-port", "0"], stdout=out, stderr=subprocess.STDOUT,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"the receiver exited: {self.log.read_text()}")
            time.sleep(0.1)
        raise RuntimeError("the receiver did not start listening")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


def watch_for(folder: Path, pattern: str, seconds: float) -> Iterator[Path]:
    """Poll `folder` for files matching `pattern` until some appear or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = sorted(folder.glob(pattern)) if folder.is_dir() else []
        if found:
            yield from found
            return
        time.sleep(0.005)

