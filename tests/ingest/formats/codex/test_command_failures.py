"""A Codex command that failed is a failed tool result in every version's shape: the shell tool's JSON
output (2025), the `Exit code: N` first line, exec_command's `Process exited with code N` header (0.104),
outputs as a string, content parts or `{content, success}`, and exec_command_end when rollouts keep it."""

from __future__ import annotations

import orjson
import pytest

from agentwatch.ingest.formats.codex.decoder import FORMAT
from tests.ingest.formats.agent_log_files import decode_one
from tests.support.agent_records import codex_exec_end, codex_output, unified_exec_output

SESSION = "019c8a4c-ed82-79a1-aa28-7738fc5ab61a"
FILE = f"/h/.codex/sessions/2026/02/23/rollout-2026-02-23T12-40-23-{SESSION}.jsonl"
TS = "2026-02-23T11:40:42.316Z"
PYTEST_FAILED = "F\nFAILED tests/test_cart.py::test_total - assert 10.0 == 9.99\n1 failed in 0.21s\n"
# the command's own output may say anything: only Codex's header above `Output:` is read
QUOTES_AN_EXIT = "build log:\nProcess exited with code 1\nExit code: 2\nall good in the end\n"


def result(output: object) -> tuple[str | None, str | None]:
    (row,) = decode_one(FORMAT, codex_output(TS, "call_zC8B", output), FILE)
    return row["text"], row["status"]


@pytest.mark.parametrize(
    ("output", "status"),
    [
        # shell tool (2025): the output is JSON text with the exit code in its metadata
        ('{"output":"ls: cannot access \'deploy\': No such file or directory\\n",'
         '"metadata":{"exit_code":2,"duration_seconds":0.0}}', "error"),
        ('{"output":"staging.env\\n","metadata":{"exit_code":0,"duration_seconds":0.0}}', "ok"),
        # shell / shell_command: a first line `Exit code: N`
        ("Exit code: 1\nWall time: 0.2 seconds\nOutput:\n" + PYTEST_FAILED, "error"),
        ("Exit code: 0\nWall time: 0.1 seconds\nOutput:\nstaging.env\n", "ok"),
        # exec_command (unified exec, 0.104): `Process exited with code N` among the header lines
        (unified_exec_output(PYTEST_FAILED, 1), "error"),
        (unified_exec_output("zsh: command not found: pnpm\n", 127), "error"),
        (unified_exec_output("3 passed in 0.30s\n", 0), "ok"),
        (unified_exec_output("Compiling shop v0.1.0\n", None, session=3), "ok"),  # still running
        (unified_exec_output(QUOTES_AN_EXIT, 0), "ok"),
        (QUOTES_AN_EXIT, "ok"),  # no header at all: nothing to read but the first line
        ("exec command rejected by user", "ok"),  # no exit code: the result stands as written
    ],
)
def test_string_outputs_take_their_status_from_codexs_exit_code(output: str, status: str) -> None:
    assert result(output) == (output, status)


def test_object_and_content_part_outputs_read_the_same_header() -> None:
    failed = unified_exec_output(PYTEST_FAILED, 1)
    # unified exec reports `success: true` whatever the command did: the exit code decides
    assert result({"content": failed, "success": True}) == (failed, "error")
    assert result({"content": unified_exec_output("ok\n", 0), "success": True})[1] == "ok"
    assert result({"content": "patch rejected", "success": False}) == ("patch rejected", "error")
    assert result([{"type": "input_text", "text": failed}]) == (failed, "error")
    assert result([{"type": "input_text", "text": unified_exec_output("ok\n", 0)}])[1] == "ok"


@pytest.mark.parametrize(
    ("exit_code", "status", "expected"),
    [(1, "failed", "error"), (1, None, "error"), (0, "completed", "ok"), (0, "declined", "error"),
     (0, "failed", "error"), (-1, None, "error"), (0, None, "ok")],
)
def test_exec_command_end_is_a_result_that_repeats_the_calls_output(exit_code: int, status: str | None,
                                                                     expected: str) -> None:
    line = codex_exec_end(TS, "call_zC8B", "pytest -q tests/test_cart.py", PYTEST_FAILED, exit_code, status)
    (row,) = decode_one(FORMAT, line, FILE)
    assert (row["event_type"], row["tool_call_id"], row["status"], row["text"]) == (
        "tool_result", "call_zC8B", expected, PYTEST_FAILED)
    attrs = orjson.loads(row["attrs"])
    assert attrs["repeats_output"] is True
    assert (attrs["exit_code"], attrs["command"][-1], attrs["duration"]) == (
        exit_code, "pytest -q tests/test_cart.py", {"secs": 0, "nanos": 412000000})
    assert "aggregated_output" not in attrs  # it is the text


def test_exec_command_end_without_output_keeps_its_empty_fields() -> None:
    line = codex_exec_end(TS, "call_q1", "true", "", 0, "completed")
    (row,) = decode_one(FORMAT, line, FILE)
    assert (row["text"], row["status"]) == (None, "ok")
    assert orjson.loads(row["attrs"])["aggregated_output"] == ""
