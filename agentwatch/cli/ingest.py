"""`agentwatch ingest` (files into the lake, one summary per run) and `agentwatch receive` (OTLP endpoints)."""

from __future__ import annotations

import errno
import sys
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from agentwatch.cli.option_types import PORT, PORT_OR_OFF
from agentwatch.errors import ConfigError
from agentwatch.inert import inert_text

if TYPE_CHECKING:
    from agentwatch.cli.context import Context
    from agentwatch.ingest.pipeline import FileReport, IngestReport

# What one record of a format is: a line of a log, or one OTLP export request (many spans or log records).
RECORD_UNITS = {"otlp_json": "requests", "otlp_logs": "requests", "openinference": "requests",
                "otlp_metrics": "requests"}
BIND_ERRORS = {errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL}


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", default="auto", show_default=True, help="Source format, or auto to detect per file.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
@click.option("--reingest", is_flag=True, help="Read files again even if already ingested (events still deduplicate).")
@click.option("--verbose", "-v", is_flag=True, help="A line per file (default: only files with problems).")
@click.pass_obj
def ingest(obj: Context, paths: tuple[Path, ...], fmt: str, progress: bool | None, reingest: bool,
           verbose: bool) -> None:
    """Ingest JSON-lines files or folders (.gz too) into the lake; no PATH: the receiver's spool."""
    from agentwatch.ingest.pipeline import expand_inputs, ingest_paths
    from agentwatch.ingest.receiver.spool import spooled_files

    spooled = [] if paths else spooled_files(obj.spool)
    inputs = [Path(p) for p in paths] or spooled
    if not inputs:
        click.echo(f"nothing to ingest: no PATH given and the spool {inert_text(str(obj.spool))} is empty")
        return
    inputs = expand_inputs(inputs)
    with ProgressBar(sys.stderr.isatty() if progress is None else progress, inputs) as advance:
        report = ingest_paths(obj.lake, inputs, fmt=fmt, progress=advance, memory_limit=obj.settings["memory_limit"],
                              reingest=reingest)
    for path, f in zip(spooled, report.files, strict=False):
        if f.status != "failed":
            path.unlink()  # its events are committed (or were already): the spool has done its job
    for f in report.files:
        if verbose or has_problem(f):
            click.echo(file_line(f), err=f.status == "failed")
    click.echo("\n".join(summary_lines(report)))
    if report.failed:
        raise SystemExit(1)


def has_problem(f: FileReport) -> bool:
    """The file failed, had records quarantined, or its counts do not reconcile."""
    return f.status == "failed" or f.quarantined > 0 or not f.reconciles()


def file_line(f: FileReport) -> str:
    """One file: what happened to it, in its own units."""
    if f.status == "failed":
        return f"failed: {inert_text(f.path)}: {inert_text(f.error)}"
    if f.status != "ingested":
        return f"already in the lake: {inert_text(f.path)}"
    from agentwatch.ingest.pipeline import ITEM_UNITS

    unit = RECORD_UNITS.get(f.format, "lines")
    quarantined = f", {f.quarantined:,} quarantined (see the quarantine view)" if f.quarantined else ""
    check = "" if f.reconciles() else ", COUNTS DO NOT RECONCILE"
    items = f" ({f.items_decoded:,} {ITEM_UNITS[f.format]})" if f.format in ITEM_UNITS else ""
    written = (f"{f.points_written:,} data points written, {f.point_duplicates:,} duplicates"
               if f.format == "otlp_metrics" else f"{f.events_written:,} events written, {f.duplicates:,} duplicates")
    return f"{f.format}: {inert_text(f.path)}: {f.records_read:,} {unit}{items} -> {written}{quarantined}{check}"


def summary_lines(report: IngestReport) -> list[str]:
    """The run in a few lines: files by outcome, then per format what was read and what was written."""
    files = report.files
    done = [f for f in files if f.status == "ingested"]
    known = sum(f.status.startswith("skipped") for f in files)
    lines = [f"ingest: {_files(len(files))}: {len(done):,} ingested, {known:,} already in the lake, "
             f"{len(report.failed):,} failed"]
    by_format: dict[str, list[FileReport]] = defaultdict(list)
    for f in done:
        by_format[f.format].append(f)
    lines.extend(_format_line(name, group) for name, group in sorted(by_format.items()))
    secrets, blank = sum(f.redactions for f in done), sum(f.blank_lines for f in done)
    if done:
        lines.append(f"  {secrets:,} secrets masked, {blank:,} blank lines ignored")
    if report.entry:
        lines.append(f"committed batch {report.entry['batch_id']} (manifest head {report.entry['hash']})")
    return lines


def _format_line(name: str, group: list[FileReport]) -> str:
    from agentwatch.ingest.pipeline import ITEM_UNITS

    def total(key: str) -> int:
        return sum(getattr(f, key) for f in group)

    unit = RECORD_UNITS.get(name, "lines")
    skipped = sum(sum(f.skipped.values()) for f in group)
    items = f"{total('items_decoded'):,} {ITEM_UNITS[name]} -> " if name in ITEM_UNITS else ""
    if name == "otlp_metrics":
        stored = f"{total('points_written'):,} written + {total('point_duplicates'):,} duplicates"
    else:
        stored = (f"{total('events_decoded'):,} events = {total('events_written'):,} written + "
                  f"{total('duplicates'):,} duplicates")
    return (f"  {name}: {_files(len(group))}; {total('records_read'):,} {unit} read = "
            f"{total('records_decoded'):,} decoded + {total('quarantined'):,} quarantined + {skipped:,} skipped; "
            f"{items}{stored}")


def _files(count: int) -> str:
    return f"{count:,} file{'' if count == 1 else 's'}"


class ProgressBar:
    """A rich progress bar over the input bytes, or nothing when not on a terminal."""

    def __init__(self, show: bool, files: list[Path]):
        self.show = show
        self.files = files

    def __enter__(self):
        if not self.show:
            return None
        from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

        total = sum(p.stat().st_size for p in self.files)
        self.progress = Progress(BarColumn(), DownloadColumn(), TransferSpeedColumn(), transient=True)
        self.progress.start()
        task = self.progress.add_task("ingest", total=total)
        return lambda n: self.progress.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self.show:
            self.progress.stop()


@click.command()
@click.option("--host", help="Address to listen on [setting receiver_host; 127.0.0.1].")
@click.option("--port", type=PORT, help="Port to listen on [setting receiver_port; 4318].")
@click.option("--grpc-port", type=PORT_OR_OFF, help="OTLP/gRPC port; 0 disables it [setting receiver_grpc_port; 4317].")
@click.option("--spool", type=click.Path(file_okay=False), help="Spool folder [default <lake>/_spool/otlp].")
@click.pass_obj
def receive(obj: Context, host: str | None, port: int | None, grpc_port: int | None, spool: str | None) -> None:
    """OTLP/HTTP (POST /v1/traces, /v1/logs, /v1/metrics) and OTLP/gRPC: spool each batch durably before
    acknowledging it."""
    import logging
    import signal
    import threading

    from agentwatch.ingest.receiver.grpc_server import serve_grpc, stop_grpc
    from agentwatch.ingest.receiver.http_server import (
        DECODERS,
        MAX_BYTES_IN_FLIGHT,
        InFlight,
        serve_receiver,
        stop_receiver,
    )

    logging.basicConfig(format="%(asctime)s agentwatch receive: %(message)s", level=logging.WARNING)

    folder = Path(spool) if spool else obj.spool
    host = host or obj.settings["receiver_host"]
    http_where = "--port" if port else "setting receiver_port"
    port = port or obj.settings["receiver_port"]
    grpc_where = "--grpc-port" if grpc_port is not None else "setting receiver_grpc_port"
    grpc_port = obj.settings["receiver_grpc_port"] if grpc_port is None else grpc_port
    budget = InFlight(MAX_BYTES_IN_FLIGHT)  # one memory bound for both endpoints
    decoders = threading.Semaphore(DECODERS)
    grpc_server = _bound(lambda: serve_grpc(folder, host, grpc_port, in_flight=budget, decoders=decoders), host,
                         grpc_port, grpc_where) if grpc_port else None
    try:
        server = _bound(lambda: serve_receiver(folder, host, port, in_flight=budget, decoders=decoders), host, port,
                        http_where)
    except ConfigError:
        if grpc_server is not None:
            stop_grpc(grpc_server)
        raise
    grpc_text = f" and OTLP/gRPC on {host}:{grpc_server.port}" if grpc_server else ""
    click.echo(f"receiving OTLP/HTTP on http://{host}:{port}/v1/traces, /v1/logs and /v1/metrics{grpc_text}, "
               f"spooling to {inert_text(str(folder))} (Ctrl-C stops)")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a service manager's stop ends it cleanly
    try:
        server.thread.join()  # serving happens in the receiver's thread; Ctrl-C or SIGTERM interrupts the wait
    except KeyboardInterrupt:
        click.echo("receiver stopped")
    finally:
        stop_receiver(server)
        if grpc_server is not None:
            stop_grpc(grpc_server)


def _bound(start, host: str, port: int, where: str):
    """Start a server, or say plainly that its address is taken or refused."""
    try:
        return start()
    except OSError as exc:
        if exc.errno not in BIND_ERRORS:
            raise
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}", where) from None
    except RuntimeError as exc:  # grpc reports a port it cannot bind this way
        raise ConfigError(f"cannot listen on {host}:{port}: {exc}", where) from None
