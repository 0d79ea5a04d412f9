"""Scope expansion: late-new tools and resources, declared scope, and the agent's own baseline."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agentwatch.detectors.metrics.inventory_tables import glob_to_regex
from tests.detectors.metrics.metrics_support import agent, rows, run_metrics, session_row
from tests.support.builders import START, session, tool_call, user

PAYMENTS = agent(
    "payments",
    scope={"paths": ["/workspace/payments-api/**"], "hosts": ["github.example.com", "*.Acme.com"], "emails": []},
    allowed_tools=["read_file", "http_get", "send_email"],
)


def test_resources_outside_the_declared_scope():
    con = run_metrics(session(
        "payments",
        user("fix the bug"),
        tool_call("c1", "read_file", {"path": "/workspace/payments-api/src/a.py"}),
        tool_call("c2", "read_file", {"path": "/etc/passwd"}),
        tool_call("c3", "http_get", {"url": "https://github.example.com/acme"}),
        tool_call("c4", "http_get", {"url": "https://api.acme.com/v1"}),
        tool_call("c5", "http_get", {"url": "https://evil.example/x"}),
        tool_call("c6", "send_email", {"to": "bob@acme.com"}),  # emails: [] allows none
        tool_call("c7", "bash", {"cmd": "git push origin main"}),  # branches are not scoped; bash not allowed
        session_id="s1",
    ), agents=[PAYMENTS])
    row = session_row(con, "s1")
    assert row["out_of_scope_resources"] == ["email:bob@acme.com", "host:evil.example", "path:/etc/passwd"]
    assert row["count_out_of_scope_resources"] == 3
    assert row["count_tools_not_allowed"] == 1


def test_a_dot_dot_path_escapes_the_folder_it_seems_to_be_in():
    con = run_metrics(session(
        "payments",
        user("fix the bug"),
        tool_call("c1", "read_file", {"path": "/workspace/payments-api/src/a.py"}),
        tool_call("c2", "read_file", {"path": "/workspace/payments-api/../../etc/shadow"}),
        session_id="s1",
    ), agents=[PAYMENTS])
    row = session_row(con, "s1")
    assert row["out_of_scope_resources"] == ["path:/workspace/payments-api/../../etc/shadow"]


def test_agents_the_inventory_does_not_know_get_no_scope_verdict():
    con = run_metrics(session("stranger", tool_call("c1", "read_file", {"path": "/etc/passwd"}), session_id="s1"),
                      agents=[PAYMENTS])
    row = session_row(con, "s1")
    assert (row["count_out_of_scope_resources"], row["count_tools_not_allowed"]) == (None, None)
    assert row["out_of_scope_resources"] == []


def test_an_agent_in_scope_with_no_calls_has_nothing_out_of_scope():
    con = run_metrics(session("payments", user("hello"), session_id="s1"), agents=[PAYMENTS])
    row = session_row(con, "s1")
    assert (row["count_out_of_scope_resources"], row["count_tools_not_allowed"]) == (0, 0)


def test_new_against_the_agents_baseline_window():
    yesterday = session("a1", tool_call("c1", "ls", {"path": "/a"}), session_id="old", start=START - timedelta(days=1))
    today = session(
        "a1",
        tool_call("c1", "ls", {"path": "/a"}),
        tool_call("c2", "ls", {"path": "/b"}),
        tool_call("c3", "cat", {"path": "/b"}),
        session_id="s1",
    )
    con = run_metrics(yesterday, today)
    row = session_row(con, "s1")
    assert (row["count_new_resources_vs_baseline"], row["count_new_tools_vs_baseline"]) == (1, 1)
    assert row["baseline_session_count"] == 1


def test_no_baseline_no_verdict():
    con = run_metrics(session("a1", tool_call("c1", "ls", {"path": "/a"}), session_id="s1"))
    row = session_row(con, "s1")
    assert row["baseline_session_count"] == 0
    assert (row["count_new_resources_vs_baseline"], row["count_new_tools_vs_baseline"]) == (None, None)


def test_baseline_sees_other_agents_as_strangers():
    other = session("a2", tool_call("c1", "ls", {"path": "/b"}), session_id="other", start=START - timedelta(days=1))
    mine = session("a1", tool_call("c1", "ls", {"path": "/a"}), session_id="old", start=START - timedelta(days=1))
    today = session("a1", tool_call("c1", "ls", {"path": "/b"}), session_id="s1")
    con = run_metrics(other, mine, today)
    assert session_row(con, "s1")["count_new_resources_vs_baseline"] == 1


def test_late_new_tools_and_resources_within_a_prompt_segment():
    con = run_metrics(session(
        "a1",
        user("fix a"),
        tool_call("c1", "read_file", {"path": "/a"}),
        tool_call("c2", "read_file", {"path": "/a"}),
        tool_call("c3", "read_file", {"path": "/b"}),  # position 3 of 4: late
        tool_call("c4", "bash", {"cmd": "cat /c"}),  # position 4 of 4: late, and a new tool
        user("now fix d"),
        tool_call("c5", "edit", {"path": "/d"}),  # position 1 of 2 in the new segment: early
        tool_call("c6", "edit", {"path": "/a"}),  # used before: not new
        session_id="s1",
    ))
    row = session_row(con, "s1")
    assert (row["count_late_new_resources"], row["count_late_new_tools"]) == (2, 1)
    assert row["count_distinct_resources"] == 4


def test_one_call_is_never_late():
    con = run_metrics(session("a1", user("x"), tool_call("c1", "ls", {"path": "/a"}), session_id="s1"))
    row = session_row(con, "s1")
    assert (row["count_late_new_resources"], row["count_late_new_tools"]) == (0, 0)


def test_inventory_tables_hold_scope_patterns_as_regexes():
    con = run_metrics(session("payments", user("x"), session_id="s1"), agents=[PAYMENTS])
    assert rows(con, "select kind, pattern, pattern_regex from agent_scope order by kind, pattern") == [
        {"kind": "host", "pattern": "*.Acme.com", "pattern_regex": r"^[^/]*\.acme\.com$"},
        {"kind": "host", "pattern": "github.example.com", "pattern_regex": r"^github\.example\.com$"},
        {"kind": "path", "pattern": "/workspace/payments-api/**", "pattern_regex": r"^/workspace/payments-api/.*$"},
    ]


@pytest.mark.parametrize(("pattern", "value", "matches"), [
    ("/workspace/*", "/workspace/a.py", True),
    ("/workspace/*", "/workspace/a/b.py", False),
    ("/workspace/**", "/workspace/a/b.py", True),
    ("/w/**/x.py", "/w/x.py", True),
    ("/w/**/x.py", "/w/a/b/x.py", True),
    ("file?.txt", "file1.txt", True),
    ("file[!0-9].txt", "file1.txt", False),
    ("a+b (1).txt", "a+b (1).txt", True),
    ("*@acme.com", "bob@acme.com", True),
    ("*@acme.com", "bob@acme.com.evil.io", False),
])
def test_scope_globs(pattern, value, matches):
    con = run_metrics(session("a1", user("x"), session_id="s1"))
    (row,) = rows(con, "select regexp_full_match(?, ?) as hit", [value, glob_to_regex(pattern)])
    assert row["hit"] is matches
