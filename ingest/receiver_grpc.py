"""OTLP/gRPC for `agentwatch receive` (127.0.0.1:4317 by default): TraceService and LogsService, with
the service definitions `opentelemetry-proto` ships, served by `grpcio`.

Same spool, same promise as the HTTP endpoint (`otlp_export`): a request is answered OK only after
it is fsynced and renamed into the spool; a malformed request is INVALID_ARGUMENT; a request that
cannot be stored, or that would pass the shared bytes-in-flight budget, is UNAVAILABLE, which OTLP
exporters retry with backoff. Items ingest would quarantine come back in `partial_success`.
"""

from __future__ import annotations

from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

from agentwatch.errors import RecordError
from agentwatch.ingest.otlp_export import LOGS, TRACES, Signal, accept_export, export_response
from agentwatch.ingest.receiver import MAX_BODY_BYTES, MAX_BYTES_IN_FLIGHT, InFlight
from agentwatch.ingest.spool import Spool

WORKERS = 4  # requests decoded at once; the bytes-in-flight budget bounds their memory
STOP_GRACE_SECONDS = 2


@dataclass
class GrpcReceiver:
    """A running gRPC endpoint and the port it listens on."""

    server: grpc.Server
    port: int


class _Export:
    """The Export rpc of one signal."""

    def __init__(self, signal: Signal, spool: Spool, in_flight: InFlight):
        self.signal, self.spool, self.in_flight = signal, spool, in_flight

    def Export(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802 - the rpc's name
        size = request.ByteSize()
        if not self.in_flight.reserve(size):
            context.abort(grpc.StatusCode.UNAVAILABLE, "busy; retry later")
        try:
            split = accept_export(self.signal, request, self.spool)
        except RecordError as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, exc.message)
        except OSError:
            context.abort(grpc.StatusCode.UNAVAILABLE, "cannot spool the request")
        finally:
            self.in_flight.release(size)
        return export_response(self.signal, split)


class _Traces(_Export, trace_service_pb2_grpc.TraceServiceServicer):
    pass


class _Logs(_Export, logs_service_pb2_grpc.LogsServiceServicer):
    pass


def serve_grpc(
    spool_dir: str | Path, host: str = "127.0.0.1", port: int = 4317, *, in_flight: InFlight | None = None
) -> GrpcReceiver:
    """Start the gRPC endpoint in its own threads (port 0 picks a free one); stop it with `stop_grpc`."""
    spool, budget = Spool(spool_dir), in_flight or InFlight(MAX_BYTES_IN_FLIGHT)
    options = [("grpc.max_receive_message_length", MAX_BODY_BYTES), ("grpc.so_reuseport", 0)]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="agentwatch-grpc"),
                         options=options, maximum_concurrent_rpcs=4 * WORKERS)
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_Traces(TRACES, spool, budget), server)
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(_Logs(LOGS, spool, budget), server)
    bound = server.add_insecure_port(f"{host}:{port}")
    server.start()
    return GrpcReceiver(server, bound)


def stop_grpc(receiver: GrpcReceiver) -> None:
    """Stop serving (in-flight requests get a short grace) and release the port."""
    receiver.server.stop(STOP_GRACE_SECONDS).wait()
