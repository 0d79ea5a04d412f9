"""Golden rows of the staging model (stg_events) and the shape every model file keeps."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from agentwatch.detectors.metrics.models import ROUND_MODELS, SQL_DIR, create_staging, read_model
from tests.detectors.metrics.metrics_support import rows
from tests.support.builders import START, approval, events_connection, response, session, tool_call, user

LAYERS = ("staging", "intermediate", "marts")
DETECTORS = SQL_DIR.parents[1]  # each stage folder (metrics, detect, risk, escalate) holds its own sql/
COMMENT = re.compile(r"--[^\n]*")


def code_of(path: Path) -> str:
    """A model's SQL without its comments, lowercased."""
    return COMMENT.sub("", path.read_text(encoding="utf-8")).lower()


def test_staging_renames_casts_and_parses_only_the_attrs_fields_models_need():
    con = events_connection(session(
        "claude",
        user("go", attrs={"permissionMode": "bypassPermissions"}),
        response("part one", input_tokens=5, attrs={"message": {"id": "msg_1"}}),
        tool_call("c1", "Bash", {"command": "ls"}, attrs={"message": {"id": "msg_1"}, "key_id": "not-an-approval"}),
        approval("c1", key_id="alice-2026", signature="c2ln", summary="Bash(command=ls)"),
        user("again", attrs={"sandbox_policy": {"mode": "danger-full-access"}}),
        user("plain", attrs={"sandbox_policy": "read-only", "note": "x"}),
        session_id="s1",
    ))
    create_staging(con)
    got = rows(con, """
        select seq, event_at, event_date, event_type, event_text, input_tokens, message_id,
            approval_key_id, approval_signature, approval_summary, permission_mode
        from stg_events order by seq
    """)
    none = dict.fromkeys(("message_id", "approval_key_id", "approval_signature", "approval_summary",
                          "permission_mode"))
    day = date(2026, 3, 2)
    expected = [
        {"seq": 1, "event_type": "user_prompt", "event_text": "go", "input_tokens": None,
         **none, "permission_mode": "bypassPermissions"},
        {"seq": 2, "event_type": "llm_response", "event_text": "part one", "input_tokens": 5,
         **none, "message_id": "msg_1"},
        {"seq": 3, "event_type": "tool_call", "event_text": None, "input_tokens": None,
         **none, "message_id": "msg_1"},  # key_id outside an approval is no approval field
        {"seq": 4, "event_type": "approval", "event_text": None, "input_tokens": None, **none,
         "approval_key_id": "alice-2026", "approval_signature": "c2ln", "approval_summary": "Bash(command=ls)"},
        {"seq": 5, "event_type": "user_prompt", "event_text": "again", "input_tokens": None,
         **none, "permission_mode": "danger-full-access"},
        {"seq": 6, "event_type": "user_prompt", "event_text": "plain", "input_tokens": None,
         **none, "permission_mode": "read-only"},
    ]
    for row, seq in zip(expected, range(1, 7), strict=True):
        row.update(event_at=START.replace(second=seq), event_date=day)
    assert got == [{k: row[k] for k in got[0]} for row in expected]


def test_staging_has_no_attrs_column_left_for_models_to_parse():
    con = events_connection(session("a", user("hi")))
    create_staging(con)
    columns = [r["column_name"] for r in rows(con, "describe stg_events")]
    assert "attrs" not in columns and "ts" not in columns and "text" not in columns
    assert {"event_at", "event_text", "message_id", "permission_mode"} <= set(columns)


def test_every_model_states_its_grain_and_ends_in_select_from_final():
    # every query of the detectors' sql/ folders (metrics layers, detect, risk, escalate); build/ holds helpers
    models = sorted(p for p in DETECTORS.rglob("*.sql") if p.parent.name != "build")
    assert {p.stem for p in models} >= {"stg_events", *ROUND_MODELS, "int_sessions", "int_approvals"}
    assert {p.relative_to(DETECTORS).parts[0] for p in models} == {"metrics", "detect", "risk", "escalate"}
    assert {p.parent.name for p in models if p.is_relative_to(SQL_DIR)} == set(LAYERS)
    for path in models:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("-- grain: "), path
        assert code_of(path).strip().startswith("with "), path
        assert re.search(r"select \* from final\s*(order by [^;]*)?$", code_of(path).strip()), path


def test_only_staging_reads_events_or_parses_attrs():
    readers = sorted(p.relative_to(DETECTORS).as_posix() for p in DETECTORS.rglob("*.sql")
                     if re.search(r"\bevents\b(?!\s*\()", code_of(p)) or "attrs" in code_of(p))
    assert readers == ["metrics/sql/staging/stg_events.sql"]


def test_each_model_is_read_from_its_layer_folder():
    assert read_model("stg_events") == (SQL_DIR / "staging" / "stg_events.sql").read_text(encoding="utf-8")
    assert read_model("int_calls") == (SQL_DIR / "intermediate" / "int_calls.sql").read_text(encoding="utf-8")
    assert read_model("sessions") == (SQL_DIR / "marts" / "sessions.sql").read_text(encoding="utf-8")
