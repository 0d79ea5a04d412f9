"""The `agentwatch` command line: the edge where settings are read and stages are called."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import click
import orjson

from agentwatch.cli_app import app
from agentwatch.cli_control import approve, escalate, gate, keygen, resume
from agentwatch.cli_detect import ack, alerts, close, detect, eval_command, rules
from agentwatch.cli_flows import run, serve
from agentwatch.cli_lake import verify
from agentwatch.cli_risk import risk
from agentwatch.config import load_settings
from agentwatch.errors import AgentwatchError
from agentwatch.inert import inert_text


class Context:
    """Settings resolved once per invocation."""

    def __init__(self, settings: dict[str, Any]):
        self.settings = settings
        self.lake = Path(settings["lake"])
        self.inventory = Path(settings["inventory"]) if settings["inventory"] else None

    @property
    def spool(self) -> Path:
        """The OTLP receiver's spool folder."""
        from agentwatch.ingest.spool import default_spool_dir

        return Path(self.settings["spool"]) if self.settings["spool"] else default_spool_dir(self.lake)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--lake", type=click.Path(file_okay=False), help="Lake folder [env AGENTWATCH_LAKE; ./data/lake].")
@click.option("--inventory", type=click.Path(dir_okay=False), help="Agent inventory YAML [env AGENTWATCH_INVENTORY].")
@click.option("--config", type=click.Path(dir_okay=False), help="Config file [env AGENTWATCH_CONFIG; agentwatch.toml].")
@click.pass_context
def cli(ctx: click.Context, lake: str | None, inventory: str | None, config: str | None) -> None:
    """Insider-threat analytics for autonomous AI agents."""
    ctx.obj = Context(load_settings(config, {"lake": lake, "inventory": inventory}))


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", default="auto", show_default=True, help="Source format, or auto to detect per file.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
@click.option("--reingest", is_flag=True, help="Read files again even if already ingested (events still deduplicate).")
@click.pass_obj
def ingest(obj: Context, paths: tuple[Path, ...], fmt: str, progress: bool | None, reingest: bool) -> None:
    """Ingest JSON-lines files or folders (.gz too) into the lake; no PATH: the receiver's spool."""
    from agentwatch.ingest.pipeline import expand_inputs, ingest_paths, summarize
    from agentwatch.ingest.spool import spooled_files

    spooled = [] if paths else spooled_files(obj.spool)
    inputs = [Path(p) for p in paths] or spooled
    if not inputs:
        click.echo(f"nothing to ingest: no PATH given and the spool {obj.spool} is empty")
        return
    show = sys.stderr.isatty() if progress is None else progress
    inputs = expand_inputs(inputs)
    with _progress_bar(show, inputs) as advance:
        report = ingest_paths(
            obj.lake, inputs, fmt=fmt, progress=advance, memory_limit=obj.settings["memory_limit"],
            reingest=reingest,
        )
    for path, f in zip(spooled, report.files, strict=False):
        if f.status != "failed":
            path.unlink()  # its events are committed (or were already): the spool has done its job
    for f in report.files:
        line = (f"{f.status:<26} {f.format or '-':<13} read {f.records_read:>9,}  written {f.events_written:>9,}  "
                f"dup {f.duplicates:>7,}  quarantined {f.quarantined:>6,}  skipped {sum(f.skipped.values()):>5,}  "
                f"blank {f.blank_lines:>4,}  secrets {f.redactions:>4,}  {inert_text(f.path)}")
        click.echo(line)
        if f.error:
            click.echo(f"  error: {inert_text(f.error)}", err=True)
    total = summarize(report)
    click.echo(
        f"{total['files']} files ({total['ingested']} ingested, "
        f"{total['skipped_already_ingested'] + total['skipped_duplicate_content']} already in the lake, "
        f"{total['failed']} failed): {total['records_read']:,} records read = {total['records_decoded']:,} decoded "
        f"+ {total['quarantined']:,} quarantined + {total['skipped_records']:,} skipped; "
        f"{total['events_decoded']:,} events decoded = {total['events_written']:,} written "
        f"+ {total['duplicates']:,} duplicates; {total['redactions']:,} secrets masked"
    )
    if report.entry:
        click.echo(f"committed batch {report.entry['batch_id']} (manifest head {report.entry['hash']})")
    if report.failed:
        raise SystemExit(1)


@cli.command()
@click.option("--baseline-days", default=7, show_default=True, help="Days of an agent's history that count as normal.")
@click.pass_obj
def metrics(obj: Context, baseline_days: int) -> None:
    """Compute session metrics (steps, sessions) for everything ingested since the last run."""
    from agentwatch.cli_lake import command_inventory, warn_unknown_agents
    from agentwatch.detectors.derived import run_metrics
    from agentwatch.lake import Lake

    Lake(obj.lake).require()
    run = run_metrics(obj.lake, command_inventory(obj), baseline_days=baseline_days,
                      memory_limit=obj.settings["memory_limit"])
    warn_unknown_agents(run.unknown_agents)
    if run.mode == "up_to_date":
        click.echo("metrics up to date: no batch ingested since the last run")
        return
    click.echo(f"metrics {run.mode}: {run.sessions_rebuilt:,} sessions rebuilt; lake now holds "
               f"{run.count_sessions:,} sessions, {run.count_steps:,} steps")


@cli.command()
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--max-width", default=60, show_default=True, help="Truncate table cells to this many characters.")
@click.pass_obj
def sql(obj: Context, query: str, fmt: str, max_width: int) -> None:
    """Run a read-only SQL query over the lake's views."""
    from agentwatch.detectors.catalog import check_read_only, connect

    check_read_only(query)
    con = connect(obj.lake, inventory=obj.inventory)
    cursor = con.execute(query)
    columns = [d[0] for d in cursor.description or ()]
    rows = cursor.fetchall()
    click.echo(_render(columns, rows, fmt, max_width), nl=False)


@cli.command()
@click.option("--host", help="Address to listen on [setting receiver_host; 127.0.0.1].")
@click.option("--port", type=int, help="Port to listen on [setting receiver_port; 4318].")
@click.option("--grpc-port", type=int, help="OTLP/gRPC port; 0 disables it [setting receiver_grpc_port; 4317].")
@click.option("--spool", type=click.Path(file_okay=False), help="Spool folder [default <lake>/_spool/otlp].")
@click.pass_obj
def receive(obj: Context, host: str | None, port: int | None, grpc_port: int | None, spool: str | None) -> None:
    """OTLP/HTTP (POST /v1/traces, /v1/logs) and OTLP/gRPC: spool each batch durably before acknowledging it."""
    import signal

    from agentwatch.ingest.receiver import MAX_BYTES_IN_FLIGHT, InFlight, serve_receiver
    from agentwatch.ingest.receiver_grpc import serve_grpc, stop_grpc

    folder = Path(spool) if spool else obj.spool
    host = host or obj.settings["receiver_host"]
    port = port or obj.settings["receiver_port"]
    grpc_port = obj.settings["receiver_grpc_port"] if grpc_port is None else grpc_port
    budget = InFlight(MAX_BYTES_IN_FLIGHT)  # one memory bound for both endpoints
    grpc_server = serve_grpc(folder, host, grpc_port, in_flight=budget) if grpc_port else None
    grpc_text = f" and OTLP/gRPC on {host}:{grpc_server.port}" if grpc_server else ""
    click.echo(f"receiving OTLP/HTTP on http://{host}:{port}/v1/traces and /v1/logs{grpc_text}, "
               f"spooling to {folder} (Ctrl-C stops)")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a service manager's stop ends it cleanly
    try:
        serve_receiver(folder, host, port, block=True, in_flight=budget)
    except KeyboardInterrupt:
        click.echo("receiver stopped")
    finally:
        if grpc_server is not None:
            stop_grpc(grpc_server)


@cli.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder.")
@click.option("--days", default=14, show_default=True, help="Days of traffic.")
@click.option("--seed", default=7, show_default=True, help="Random seed: same seed, byte-identical output.")
@click.option("--scale", default=1.0, show_default=True, help="Multiplies sessions per day (benchmarks: 100+).")
@click.option("--start", default="2026-11-09", show_default=True, help="First day (UTC).")
@click.option("--otlp-agent", default="mail-assistant", show_default=True,
              help="Write this agent's sessions as OTLP/JSON traces instead of native JSONL ('' for none).")
def sample(out: Path, days: int, seed: int, scale: float, start: str, otlp_agent: str | None) -> None:
    """Generate the sample fleet: inventory, labelled sessions with scripted incidents."""
    from agentwatch.sample.generate import write_sample

    summary = write_sample(out, days=days, seed=seed, scale=scale, start=start, otlp_agent=otlp_agent or None)
    click.echo(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())


def _render(columns: list[str], rows: list[tuple], fmt: str, max_width: int) -> str:
    if fmt == "json":  # ASCII-only JSON: same data, but no control or bidi character reaches a terminal
        return "".join(json.dumps(dict(zip(columns, r, strict=True)), default=str) + "\n" for r in rows)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows([inert_text(v) if isinstance(v, str) else v for v in row] for row in rows)
        return out.getvalue()
    cells = [[_cell(v, max_width) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells)
    lines.append(f"({len(rows)} rows)")
    return "\n".join(lines) + "\n"


def _cell(value: Any, max_width: int) -> str:
    text = "NULL" if value is None else inert_text(str(value))
    return text if len(text) <= max_width else text[: max_width - 1] + "…"


class _progress_bar:  # noqa: N801 - used as a context manager like a function
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



def main() -> None:
    """Entry point: errors print where they happened, without a traceback."""
    try:
        cli(standalone_mode=True)
    except AgentwatchError as exc:
        click.echo(f"agentwatch: error: {inert_text(str(exc))}", err=True)
        sys.exit(2)


cli.add_command(verify)
cli.add_command(risk)
cli.add_command(keygen)
cli.add_command(approve)
cli.add_command(gate)
cli.add_command(resume)
cli.add_command(escalate)
cli.add_command(detect)
cli.add_command(alerts)
cli.add_command(ack)
cli.add_command(close)
cli.add_command(rules)
cli.add_command(eval_command)
cli.add_command(run)
cli.add_command(serve)
cli.add_command(app)
