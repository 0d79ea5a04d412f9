"""What `steps` derives per event: order indices, words, entities and tool categories (golden rows)."""

from __future__ import annotations

import pytest

from tests.detectors.metrics.metrics_support import rows, run_metrics, step_column
from tests.support.builders import approval, reasoning, response, session, system, tool_call, tool_result, user


def entities_of(event: dict) -> list[tuple[str, str]]:
    con = run_metrics(session("a1", event, session_id="s1"))
    (found,) = step_column(con, "s1", "entities")
    return sorted((e["kind"], e["value"]) for e in found)


def category_of(tool_name: str, args: dict) -> str:
    con = run_metrics(session("a1", tool_call("c1", tool_name, args), session_id="s1"))
    return step_column(con, "s1", "tool_category")[0]


def test_golden_steps_of_a_short_session():
    con = run_metrics(session(
        "a1",
        system("You are the payments agent."),
        user("Fix the timeout bug in payments-api"),
        reasoning("Look at the timeout handler"),
        tool_call("c1", "read_file", {"path": "/workspace/payments-api/src/timeout.py"}),
        tool_result("c1", "def handler(): pass"),
        approval("c1"),
        response("Fixed the timeout."),
        session_id="s1",
    ))
    got = rows(con, """
        select step_index, event_type, prompt_index, human_turn_index, turn_index, list_sort(tokens) as tokens,
            tool_category, is_sink
        from steps order by step_index""")
    assert got == [
        {"step_index": 1, "event_type": "system_prompt", "prompt_index": 0, "human_turn_index": 0,
         "turn_index": 0, "tokens": None, "tool_category": None, "is_sink": False},
        {"step_index": 2, "event_type": "user_prompt", "prompt_index": 1, "human_turn_index": 1,
         "turn_index": 1, "tokens": ["api", "bug", "fix", "payments", "timeout"], "tool_category": None,
         "is_sink": False},
        {"step_index": 3, "event_type": "reasoning", "prompt_index": 1, "human_turn_index": 1,
         "turn_index": 1, "tokens": ["handler", "look", "timeout"], "tool_category": None, "is_sink": False},
        {"step_index": 4, "event_type": "tool_call", "prompt_index": 1, "human_turn_index": 1,
         "turn_index": 1, "tokens": ["api", "file", "payments", "py", "read", "src", "timeout", "workspace"],
         "tool_category": "read", "is_sink": False},
        {"step_index": 5, "event_type": "tool_result", "prompt_index": 1, "human_turn_index": 1,
         "turn_index": 2, "tokens": None, "tool_category": None, "is_sink": False},
        {"step_index": 6, "event_type": "approval", "prompt_index": 1, "human_turn_index": 2,
         "turn_index": 2, "tokens": None, "tool_category": None, "is_sink": False},
        {"step_index": 7, "event_type": "llm_response", "prompt_index": 1, "human_turn_index": 2,
         "turn_index": 2, "tokens": ["fixed", "timeout"], "tool_category": None, "is_sink": False},
    ]
    path = "/workspace/payments-api/src/timeout.py"
    assert step_column(con, "s1", "resources")[3] == [{"kind": "path", "value": path}]


def test_steps_follow_seq_not_arrival_order():
    events = session("a1", user("first"), tool_call("c1", "ls"), tool_result("c1", "x"), session_id="s1")
    events.reverse()
    con = run_metrics(events)
    assert step_column(con, "s1", "event_type") == ["user_prompt", "tool_call", "tool_result"]


def test_one_tool_call_reported_twice_is_one_step():
    con = run_metrics(session(
        "a1", user("list it"), tool_call("c1", "ls", {"path": "/srv"}), tool_call("c1", "ls", {"path":  "/srv"}),
        tool_result("c1", "x"), tool_result("c1", "x"), tool_result("c1", "a different result"),
        approval("c1"), approval("c1"), session_id="s1"))
    assert step_column(con, "s1", "event_type") == [
        "user_prompt", "tool_call", "tool_result", "tool_result", "approval", "approval"]


@pytest.mark.parametrize(("text", "expected"), [
    ("see https://Docs.Example.com/a?b=1 now", [("host", "docs.example.com")]),
    ("clone https://github.com/Acme/Payments-API.git", [("repo", "acme/payments-api")]),
    ("git@github.com:acme/ledger.git", [("repo", "acme/ledger")]),
    ("mail Bob.Smith@Example.COM today", [("email", "bob.smith@example.com")]),
    ("wire to DE89 3704 0044 0532 0130 00 please", [("account", "DE89370400440532013000")]),
    ("account: 12345678", [("account", "12345678")]),
    ("SELECT * FROM Customers JOIN orders on x", [("table", "customers"), ("table", "orders")]),
    ("we moved from the old plan", []),
    ("copy s3://acme-backups/db/ and arn:aws:iam::123456789012:role/admin",
     [("cloud", "arn:aws:iam::123456789012:role/admin"), ("cloud", "s3://acme-backups/db/")]),
    ("bucket gs://acme-logs and projects/acme-prod-1/secrets/db",
     [("cloud", "gs://acme-logs"), ("cloud", "projects/acme-prod-1/secrets/db")]),
    ("edit /etc/passwd and ~/.ssh/id_rsa then ../../secret.txt.",
     [("path", "../../secret.txt"), ("path", "/etc/passwd"), ("path", "~/.ssh/id_rsa")]),
    ("nothing to see, a/b relative and 3/4", []),
])
def test_entities_in_prompts(text, expected):
    assert entities_of(user(text)) == expected


def test_entities_in_tool_arguments():
    call = tool_call("c1", "git", {"cmd": "git push --force origin release/2.1", "repo": "Acme/Ledger"})
    assert entities_of(call) == [("branch", "release/2.1"), ("repo", "acme/ledger")]


def test_json_branch_argument_is_a_branch():
    assert entities_of(tool_call("c1", "git_push", {"branch": "main"})) == [("branch", "main")]


@pytest.mark.parametrize(("tool", "args", "category"), [
    ("bash", {"cmd": "rm -rf /srv/data"}, "destructive"),
    ("run_sql", {"query": "DROP TABLE users"}, "destructive"),
    ("run_sql", {"query": "DELETE FROM users"}, "destructive"),
    ("run_sql", {"query": "DELETE FROM users WHERE id = 3"}, "write"),
    ("bash", {"cmd": "git push --force origin main"}, "destructive"),
    ("bash", {"cmd": "terraform destroy -auto-approve"}, "destructive"),
    ("bash", {"cmd": "chmod 777 /etc/shadow"}, "privilege"),
    ("aws", {"cmd": "aws iam attach-role-policy --policy-arn x"}, "privilege"),
    ("attach_iam_policy", {"role": "ci"}, "privilege"),
    ("delete_file", {"path": "/tmp/x"}, "destructive"),
    ("spawn_agent", {"task": "review"}, "spawn"),
    ("http_get", {"url": "https://example.com"}, "network"),
    ("send_email", {"to": "a@b.com"}, "network"),
    ("write_file", {"path": "/w/a.py"}, "write"),
    ("read_file", {"path": "/w/a.py"}, "read"),
    ("thread_summary", {}, "other"),
])
def test_tool_categories(tool, args, category):
    assert category_of(tool, args) == category


def test_sinks_are_calls_that_send_write_pay_delete_or_push():
    con = run_metrics(session(
        "a1",
        tool_call("c1", "read_file", {"path": "/a"}),
        tool_call("c2", "pay_invoice", {"amount": 3}),
        tool_call("c3", "http_post", {"url": "https://x.com"}),
        session_id="s1",
    ))
    assert step_column(con, "s1", "is_sink") == [False, True, True]


def test_words_drop_stop_words_single_characters_and_json_keys():
    con = run_metrics(session(
        "a1", tool_call("c1", "Send_Email", {"to": "the boss", "subject": "Q3 results: a summary"}), session_id="s1"))
    assert sorted(step_column(con, "s1", "tokens")[0]) == ["boss", "email", "q3", "results", "send", "summary"]
