"""OTLP/gRPC for `agentwatch receive` (127.0.0.1:4317 by default): TraceService, LogsService and
MetricsService, with the service definitions `opentelemetry-proto` ships, served by `grpcio`'s asyncio
server in a thread of its own.

Same spool, same promise as the HTTP endpoint (`export`): a request is answered OK only after
it is fsynced and renamed into the spool; a malformed request is INVALID_ARGUMENT; a request that
cannot be stored, or that would pass the shared bytes-in-flight budget, is UNAVAILABLE, which OTLP
exporters retry with backoff. Items ingest would quarantine come back in `partial_success`.

No client can hold it: a request waiting for its bytes is a coroutine, not a thread (grpcio's
threaded server gives each one a worker until its message is in, so a few slow senders stopped it);
decoding runs in a small pool under the decoders shared with HTTP; and a connection lives
`MAX_CONNECTION_SECONDS` at most (then GOAWAY: exporters reconnect at once), so a request trickling
its bytes is cut once its connection's time and `AGE_GRACE_SECONDS` more are up.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from agentwatch.errors import RecordError
from agentwatch.ingest.receiver.export import LOGS, METRICS, TRACES, Signal, Verdict, accept_export, export_response
from agentwatch.ingest.receiver.http_server import DECODERS, MAX_BODY_BYTES, MAX_BYTES_IN_FLIGHT, InFlight
from agentwatch.ingest.receiver.spool import Spool

log = logging.getLogger(__name__)

MAX_CONNECTION_SECONDS = 120
AGE_GRACE_SECONDS = 60  # requests in flight when their connection ages out
STOP_GRACE_SECONDS = 2  # requests in flight when the server stops
MAX_STREAMS = 32  # requests at once on one connection


@dataclass
class GrpcReceiver:
    """A running gRPC endpoint, the port it listens on, and the loop serving it."""

    server: grpc.aio.Server
    port: int
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    pool: ThreadPoolExecutor


class _Export:
    """The Export rpc of one signal; it takes the request's bytes (`wire` parses them piece by piece)."""

    def __init__(self, signal: Signal, spool: Spool, in_flight: InFlight, decoders: threading.Semaphore,
                 pool: ThreadPoolExecutor):
        self.signal, self.spool, self.in_flight, self.decoders, self.pool = signal, spool, in_flight, decoders, pool

    async def export(self, request: bytes, context: grpc.aio.ServicerContext) -> Any:
        """Spool one request, then answer it."""
        size = len(request)
        if not self.in_flight.reserve(size):
            await context.abort(grpc.StatusCode.UNAVAILABLE, "busy; retry later")
        try:
            verdict = await asyncio.get_running_loop().run_in_executor(self.pool, self._accept, request)
        except RecordError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, exc.message)
        except OSError as exc:
            log.error("cannot spool an OTLP request: %s", exc.strerror or exc)
            await context.abort(grpc.StatusCode.UNAVAILABLE, "cannot spool the request")
        finally:
            self.in_flight.release(size)
        return export_response(self.signal, verdict)

    def _accept(self, request: bytes) -> Verdict:
        with self.decoders:
            return accept_export(self.signal, request, self.spool)


def _handler(export: _Export) -> grpc.GenericRpcHandler:
    """The signal's service (as `opentelemetry-proto` names it) with its one rpc, taking raw bytes."""
    signal = export.signal
    service = next(iter(signal.request.DESCRIPTOR.file.services_by_name.values())).full_name
    rpc = grpc.unary_unary_rpc_method_handler(export.export, request_deserializer=None,
                                              response_serializer=signal.response.SerializeToString)
    return grpc.method_handlers_generic_handler(service, {"Export": rpc})


def serve_grpc(
    spool_dir: str | Path, host: str = "127.0.0.1", port: int = 4317, *, in_flight: InFlight | None = None,
    decoders: threading.Semaphore | None = None,
) -> GrpcReceiver:
    """Start the gRPC endpoint in its own thread (port 0 picks a free one); stop it with `stop_grpc`."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="agentwatch-grpc", daemon=True)
    thread.start()
    pool = ThreadPoolExecutor(max_workers=DECODERS, thread_name_prefix="agentwatch-grpc-decode")
    budget, decoding = in_flight or InFlight(MAX_BYTES_IN_FLIGHT), decoders or threading.Semaphore(DECODERS)
    services = (Spool(spool_dir), budget, decoding, pool)
    try:
        server, bound = asyncio.run_coroutine_threadsafe(_start(host, port, *services), loop).result()
    except BaseException:
        _end_loop(loop, thread, pool)
        raise
    return GrpcReceiver(server, bound, loop, thread, pool)


async def _start(host: str, port: int, spool: Spool, in_flight: InFlight, decoders: threading.Semaphore,
                 pool: ThreadPoolExecutor) -> tuple[grpc.aio.Server, int]:
    options = [("grpc.max_receive_message_length", MAX_BODY_BYTES), ("grpc.so_reuseport", 0),
               ("grpc.max_concurrent_streams", MAX_STREAMS),
               ("grpc.max_connection_age_ms", MAX_CONNECTION_SECONDS * 1000),
               ("grpc.max_connection_age_grace_ms", AGE_GRACE_SECONDS * 1000)]
    server = grpc.aio.server(options=options)
    server.add_generic_rpc_handlers(tuple(_handler(_Export(signal, spool, in_flight, decoders, pool))
                                          for signal in (TRACES, LOGS, METRICS)))
    bound = server.add_insecure_port(f"{host}:{port}")
    await server.start()
    return server, bound


def stop_grpc(receiver: GrpcReceiver) -> None:
    """Stop serving (in-flight requests get a grace) and release the port."""
    asyncio.run_coroutine_threadsafe(receiver.server.stop(STOP_GRACE_SECONDS), receiver.loop).result()
    _end_loop(receiver.loop, receiver.thread, receiver.pool)


def _end_loop(loop: asyncio.AbstractEventLoop, thread: threading.Thread, pool: ThreadPoolExecutor) -> None:
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()
    pool.shutdown(wait=True)
