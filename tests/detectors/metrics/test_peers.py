"""Peer-group novelty: what a session touches that the agent's sessions with the same goal rarely do."""

from __future__ import annotations

from datetime import timedelta

from tests.detectors.metrics.metrics_support import run_metrics, session_row
from tests.support.builders import START, session, tool_call, user


def refund(session_id: str, days_ago: int, ticket: int, *extra_calls: dict) -> list[dict]:
    return session(
        "support",
        user(f"Please handle ticket #{ticket}"),
        tool_call("c1", "get_ticket", {"id": ticket}),
        tool_call("c2", "issue_refund", {"ticket": ticket}),
        *extra_calls,
        session_id=session_id,
        start=START - timedelta(days=days_ago),
    )


def usual_week(count: int = 5) -> list[list[dict]]:
    return [refund(f"peer{i}", days_ago=1 + i % 3, ticket=100 + i) for i in range(count)]


def test_what_no_peer_with_the_same_goal_touched_is_novel():
    today = refund("s1", 0, 999, tool_call("c3", "read_file", {"path": "/etc/passwd"}))
    row = session_row(run_metrics(*usual_week(), today), "s1")
    assert row["goal_key"] == "please handle ticket ##"
    assert row["peer_group_size"] == 5
    assert row["peer_novel_items"] == ["path:/etc/passwd", "tool:read_file"]
    assert row["count_peer_novel_items"] == 2


def test_doing_what_the_peers_do_is_not_novel():
    row = session_row(run_metrics(*usual_week(), refund("s1", 0, 999)), "s1")
    assert (row["count_peer_novel_items"], row["peer_novel_items"]) == (0, [])


def test_what_one_peer_in_ten_did_is_still_usual():
    peers = usual_week(10)
    peers[0] = refund("peer0", 1, 100, tool_call("c3", "lookup_order", {"id": 1}))
    today = refund("s1", 0, 999, tool_call("c3", "lookup_order", {"id": 1}))
    row = session_row(run_metrics(*peers, today), "s1")
    assert (row["peer_group_size"], row["count_peer_novel_items"]) == (10, 0)


def test_too_few_peers_give_no_verdict():
    today = refund("s1", 0, 999, tool_call("c3", "read_file", {"path": "/etc/passwd"}))
    row = session_row(run_metrics(*usual_week(4), today), "s1")
    assert row["peer_group_size"] == 4
    assert (row["count_peer_novel_items"], row["peer_novel_items"]) == (None, None)


def test_sessions_with_another_goal_or_of_another_agent_are_not_peers():
    passwd = tool_call("c1", "read_file", {"path": "/etc/passwd"})
    yesterday = START - timedelta(days=1)
    other_goal = [session("support", user("close stale tickets"), passwd, session_id=f"o{i}", start=yesterday)
                  for i in range(5)]
    other_agent = [session("ops", user("Please handle ticket #1"), passwd, session_id=f"x{i}", start=yesterday)
                   for i in range(5)]
    today = refund("s1", 0, 999, tool_call("c3", "read_file", {"path": "/etc/passwd"}))
    row = session_row(run_metrics(*usual_week(), *other_goal, *other_agent, today), "s1")
    assert (row["peer_group_size"], row["count_peer_novel_items"]) == (5, 2)


def test_a_session_without_a_prompt_has_no_goal():
    row = session_row(run_metrics(session("support", tool_call("c1", "ls"), session_id="s1")), "s1")
    assert (row["goal_key"], row["peer_group_size"], row["count_peer_novel_items"]) == (None, None, None)
