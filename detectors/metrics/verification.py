"""Verification: every approval's Ed25519 signature checked, every sensitive action given one outcome.

An approval event (DESIGN.md) names the tool call it approves (`tool_call_id`) and carries in `attrs`
the `summary` a human read, the `signature` (base64 Ed25519 over the summary's UTF-8 bytes) and the
`key_id` that signed. One approval is judged by these checks, in order; the first that fails is its
outcome, and one that passes every check is `approved`:
  unknown_key        the key_id is not among the approval keys the inventory lists for the agent
  invalid_signature  the signature does not verify over the summary with that key (forged, or a
                     real signature of some other summary replayed)
  summary_mismatch   the signature is good but the summary is not the action's summary: the
                     human approved something else. The signature covers the summary only, never
                     the tool_call_id, so this check is what stops a genuine approval from being
                     copied onto a different call
  after_the_fact     the approval comes after the action's result: a sign-off of what already ran
A sensitive action (is_sensitive in int_calls) with no approval carrying its tool_call_id in its
session is `missing`. When several approvals name one call, one `approved` is enough; otherwise the
most alarming outcome stands (order of OUTCOME_RANK), so a forgery is never hidden by a late but
genuine sign-off.

The action's summary is `tool(key=value, ...)`: the tool name, then each argument of the call in the
order the call logged them, strings as they are, other values as compact JSON
(`summarize_action`). A summary matches when it equals that text, or the same with the arguments in
key order, after removing whitespace and quote characters and ignoring letter case: what a human
reads is the same. A free-text summary ("push the fix") does not match any action; the confirmation
loop must show the human the action itself.

Approvals are few (one per sensitive action), so they are verified in a Python loop over the rows
of `sql/intermediate/int_approvals.sql`; everything else stays in DuckDB. The outcomes are registered as the table
`approval_outcomes` before the metric models run; int_calls joins it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from agentwatch.errors import ConfigError
from agentwatch.inventory import Agent

APPROVED = "approved"
MISSING = "missing"
# One call's approvals: approved wins, else the first of these present.
OUTCOME_RANK = (APPROVED, "invalid_signature", "unknown_key", "summary_mismatch", "after_the_fact")
OUTCOMES = (*OUTCOME_RANK, MISSING)
_FORMATTING = re.compile(r"[\s\"'`]+")
OUTCOME_SCHEMA = pa.schema([
    ("agent_id", pa.string()), ("session_id", pa.string()), ("tool_call_id", pa.string()),
    ("approval_outcome", pa.string()), ("approval_event_id", pa.string()), ("count_approvals", pa.int64()),
])


def summarize_action(tool_name: str, args: Any) -> str:
    """The text a human signs to confirm a call: `tool(key=value, ...)` in the call's argument order."""
    if args is None:
        return f"{tool_name}()"
    if not isinstance(args, dict):
        return f"{tool_name}({_render_value(args)})"
    return f"{tool_name}({', '.join(f'{key}={_render_value(value)}' for key, value in args.items())})"


def summary_matches(summary: str | None, tool_name: str | None, tool_args: str | None) -> bool:
    """Does the signed summary describe this call (formatting, letter case and argument order aside)?"""
    if summary is None or tool_name is None:
        return False
    args = _parse_args(tool_args)
    candidates = [summarize_action(tool_name, args)]
    if isinstance(args, dict):
        candidates.append(summarize_action(tool_name, dict(sorted(args.items()))))
    wanted = _normalize(summary)
    return any(_normalize(candidate) == wanted for candidate in candidates)


def check_signature(public_key_b64: str | None, summary: str | None, signature_b64: str | None) -> str | None:
    """None when the signature verifies over the summary; otherwise the failing outcome."""
    if public_key_b64 is None:
        return "unknown_key"
    if summary is None or signature_b64 is None:
        return "invalid_signature"
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        _public_key(public_key_b64).verify(signature, summary.encode("utf-8"))
    except (InvalidSignature, binascii.Error, ValueError):
        return "invalid_signature"
    return None


def judge_approval(approval: Mapping[str, Any], keys: Mapping[str, str]) -> str:
    """The outcome of one approval row (see the module docstring for the order of checks)."""
    key_id = approval["key_id"]
    failed = check_signature(keys.get(key_id) if key_id else None, approval["summary"], approval["signature"])
    if failed:
        return failed
    if not summary_matches(approval["summary"], approval["call_tool_name"], approval["call_tool_args"]):
        return "summary_mismatch"
    return "after_the_fact" if approval["is_after_result"] else APPROVED


def verify_approvals(approvals: Iterable[Mapping[str, Any]], inventory: Mapping[str, Agent]) -> pa.Table:
    """One row per (agent, session, tool_call_id) approved at least once: its outcome and approval count."""
    check_inventory_keys(inventory)
    best: dict[tuple[str, str, str], list[Any]] = {}
    for approval in approvals:
        agent = inventory.get(approval["agent_id"])
        outcome = judge_approval(approval, agent.approval_keys if agent else {})
        key = (approval["agent_id"], approval["session_id"], approval["tool_call_id"])
        seen = best.get(key)
        if seen is None:
            best[key] = [outcome, approval["event_id"], 1]
            continue
        seen[2] += 1
        if OUTCOME_RANK.index(outcome) < OUTCOME_RANK.index(seen[0]):
            seen[0], seen[1] = outcome, approval["event_id"]
    rows = [
        {"agent_id": a, "session_id": s, "tool_call_id": c, "approval_outcome": o, "approval_event_id": e,
         "count_approvals": n}
        for (a, s, c), (o, e, n) in best.items()
    ]
    return pa.Table.from_pylist(rows, schema=OUTCOME_SCHEMA)


def register_approval_outcomes(con: duckdb.DuckDBPyConnection, inventory: Mapping[str, Agent]) -> int:
    """Verify the approvals of `metrics_targets` sessions into the table `approval_outcomes`."""
    sql = (Path(__file__).parent / "sql" / "intermediate" / "int_approvals.sql").read_text(encoding="utf-8")
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    approvals = (dict(zip(names, row, strict=True)) for row in cursor.fetchall())
    con.register("_approval_outcomes", verify_approvals(approvals, inventory))
    con.execute("create or replace table approval_outcomes as select * from _approval_outcomes")
    con.unregister("_approval_outcomes")
    return con.execute("select count(*) from approval_outcomes").fetchall()[0][0]


def check_inventory_keys(inventory: Mapping[str, Agent]) -> None:
    """Every approval key the inventory lists must be a base64 raw 32-byte Ed25519 public key."""
    for agent in inventory.values():
        for key_id, public in agent.approval_keys.items():
            try:
                _public_key(public)
            except (binascii.Error, ValueError, TypeError) as exc:
                raise ConfigError(f"approval key {key_id!r} is not a base64 Ed25519 public key ({exc})",
                                  f"inventory: {agent.agent_id}.approval_keys") from exc


@functools.lru_cache(maxsize=1024)  # a fleet has few approvers: decode each key once
def _public_key(public_b64: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64, validate=True))


def _parse_args(tool_args: str | None) -> Any:
    if tool_args is None:
        return None
    try:
        return orjson.loads(tool_args)
    except orjson.JSONDecodeError:
        return tool_args  # not JSON: the text is the argument


def _render_value(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _normalize(text: str) -> str:
    return _FORMATTING.sub("", text).casefold()
