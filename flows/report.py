"""A run's summary as terminal text and as a Prefect markdown artifact.

File names and error messages come from the telemetry (attacker-controlled): every such value is
first made inert (`inert_text`: no control, bidi or invisible characters) and then, in markdown, shown
inside a code span, which CommonMark never interprets: no link, image, HTML or autolink can form.
Only our own labels and numbers are written as plain markdown.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from agentwatch.detectors.detect.run import DetectRun
from agentwatch.detectors.escalate.run import EscalationRun
from agentwatch.flows.pipeline import RunSummary, StepResult
from agentwatch.inert import inert_text

# ingest fields summed over batches -> label in the summary
INGEST_TOTALS = {
    "files": "files seen", "ingested": "files ingested", "already_in_lake": "files already in the lake",
    "failed": "files failed (not ingested, reason below)", "records_read": "records read",
    "events_written": "events written", "duplicates": "duplicate events", "quarantined": "records quarantined",
    "redactions": "secrets masked", "spool_files_taken": "spool files taken",
}


def summary_rows(summary: RunSummary) -> list[tuple[str, Any]]:
    """(label, value) rows: ingest totals, then every scalar each later stage reported."""
    rows: list[tuple[str, Any]] = [("status", "failed" if summary.failed else "ok"),
                                   ("wall time (s)", round(summary.seconds, 2))]
    discovered = [s.summary for s in summary.steps if s.name == "discover" and s.summary is not None]
    if discovered:
        rows.append(("files discovered", len(discovered[0].files)))
    batches = [s.summary for s in summary.steps if s.name == "ingest" and s.summary is not None]
    if batches:
        rows.append(("ingest batches", len(batches)))
        rows.extend((label, sum(getattr(b, field) for b in batches)) for field, label in INGEST_TOTALS.items())
    rows.extend(outcome_rows(summary))
    for step in summary.steps:
        if step.name not in ("discover", "ingest") and step.summary is not None:
            rows.extend((f"{step.name}: {key}", value) for key, value in scalar_fields(step.summary))
    return rows


def outcome_rows(summary: RunSummary) -> list[tuple[str, Any]]:
    """What the run found and did about it: sessions flagged, alerts raised, escalations (for the stages
    that ran; a skipped stage says why instead of a number)."""
    done = {s.name: s.summary for s in summary.steps if s.summary is not None}
    rows: list[tuple[str, Any]] = []
    if "detect" in done:
        detect = done["detect"]
        ran = isinstance(detect, DetectRun)
        rows += [("sessions flagged", detect.count_flagged if ran else _skipped(detect)),
                 ("alerts raised (new)", detect.count_new_alerts if ran else _skipped(detect))]
    if "escalate" in done:
        escalate = done["escalate"]
        if isinstance(escalate, EscalationRun):
            rows += [("escalations sent", escalate.count_ok),
                     ("escalations failed", escalate.count_failed + escalate.count_gave_up)]
        else:
            rows.append(("escalations", _skipped(escalate)))
    return rows


def _skipped(stage_summary: Any) -> str:
    return "; ".join(str(value) for _, value in scalar_fields(stage_summary)) or "skipped"


def failures(summary: RunSummary) -> list[tuple[str, str]]:
    """(file, reason) of every input file a batch could not ingest."""
    return [(f.path, f.reason) for s in summary.steps if s.name == "ingest" and s.summary is not None
            for f in s.summary.failures]


def scalar_fields(obj: Any) -> list[tuple[str, Any]]:
    """A summary dataclass's scalar fields; collections shown by their size; mappings and None left out."""
    if not dataclasses.is_dataclass(obj):
        return [("result", obj)] if isinstance(obj, int | float | str | bool) else []
    out: list[tuple[str, Any]] = []
    for field in dataclasses.fields(obj):
        value = getattr(obj, field.name)
        if isinstance(value, bool | int | float | str):
            out.append((field.name, value))
        elif isinstance(value, list | tuple | set | frozenset):
            out.append((f"count {field.name}", len(value)))
    return out


def render_text(summary: RunSummary) -> str:
    """The summary for a terminal: one line per step, the totals, the failed files; all text inert."""
    lines = [f"{summary.flow} run of {inert_text(summary.lake)}"
             + (f" (waited {summary.waited_for_lock:.1f} s for another run)" if summary.waited_for_lock >= 1 else "")]
    lines += [f"  {_status(s):<6} {s.seconds:7.2f} s  {inert_text(s.label)}" for s in summary.steps]
    width = max((len(label) for label, _ in summary_rows(summary)), default=0)
    lines += [f"  {label:<{width}}  {_text_value(value)}" for label, value in summary_rows(summary)]
    lines += [f"  failed file {inert_text(path)}: {inert_text(reason)}" for path, reason in failures(summary)]
    if summary.note:
        lines.append(f"  {summary.note}")
    if summary.failed:
        lines.append(f"  FAILED at {inert_text(summary.failed.label)}: {inert_text(summary.failed.error)}")
    return "\n".join(lines)


def render_markdown(summary: RunSummary) -> str:
    """The summary as markdown for a Prefect artifact; every value from the data is a code span."""
    out = [f"# agentwatch {summary.flow} run: {'FAILED' if summary.failed else 'ok'}", "",
           f"Lake {code_span(summary.lake)}, started {summary.started_at:%Y-%m-%d %H:%M:%S} UTC.", "",
           "| | |", "|---|---:|"]
    out += [f"| {label} | {_md_value(value)} |" for label, value in summary_rows(summary)]
    out += ["", "## Steps", ""]
    out += [f"- {_status(s)} {s.seconds:.2f} s {code_span(s.label)}" for s in summary.steps]
    if failures(summary):
        out += ["", "## Files not ingested", ""]
        out += [f"- {code_span(path)}: {code_span(reason)}" for path, reason in failures(summary)]
    if summary.failed:
        out += ["", f"**Failed at** {code_span(summary.failed.label)}: {code_span(summary.failed.error)}"]
    if summary.note:
        out += ["", code_span(summary.note)]
    return "\n".join(out) + "\n"


def code_span(text: str) -> str:
    """Text as an inline code span: inert first, fenced by more backticks than it contains."""
    safe = inert_text(str(text))
    fence = "`" * (max((len(run) for run in re.findall(r"`+", safe)), default=0) + 1)
    return f"{fence} {safe} {fence}"


def _md_value(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return code_span(str(value)).replace("|", "\\|")  # a pipe would end the table cell
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"


def _text_value(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return inert_text(str(value))
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"


def _status(step: StepResult) -> str:
    return "FAILED" if step.error else "ok"
