"""No planted secret survives anywhere in the lake: events (every column), quarantine (raw records
and reasons), manifest entries, Parquet footers; the fingerprints still correlate repeats."""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pyarrow.parquet as pq

from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.lake import Lake
from tests.ingest.sanitize.test_redact import SECRETS
from tests.support.native_lines import line, write_lines
from tests.support.paths import ROOT

NOW = datetime(2026, 11, 25, tzinfo=UTC)
LABEL = re.compile(r"\[REDACTED:([a-z_]+):([0-9a-f]{12})\]")


def planted_lines() -> list[bytes]:
    lines = []
    for n, (kind, (secret, context)) in enumerate(sorted(SECRETS.items()), start=1):
        written = context.format(secret)
        lines += [
            line(seq=n, text=f"the agent ran: {written}"),
            line(seq=100 + n, tool_args={"env": written, "cmd": f"deploy --token {written}"}),
            line(seq=200 + n, attrs={"debug": {"config": written}}, actor="ops@example.com"),
            line(seq=300 + n, session_id=f"s-{kind}").replace(
                b'"text":', b'"oops":' + orjson.dumps(written) + b',"text":'
            ),
            orjson.dumps({"ts": "not-a-time", "agent_id": "a", "text": written}),  # quarantined
        ]
    return lines


def every_text_in_lake(lake: Path) -> str:
    chunks = []
    for path in lake.rglob("*"):
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            chunks.append(str(table.to_pylist()))
            chunks.append(str(pq.ParquetFile(path).metadata.to_dict()))
        elif path.is_file() and path.suffix in (".json", ".jsonl"):
            chunks.append(path.read_text(errors="replace"))
    return "\n".join(chunks)


def test_no_planted_secret_reaches_the_lake(tmp_path: Path, lake: Path) -> None:
    lines = planted_lines()
    src = write_lines(tmp_path / "secrets.jsonl", lines)
    report = ingest_paths(lake, [src], now=NOW)
    f = report.files[0]
    assert (f.records_read, f.events_written, f.quarantined) == (len(lines), len(SECRETS) * 4, len(SECRETS))
    everything = every_text_in_lake(lake)
    leaked = [kind for kind, (secret, _) in SECRETS.items() if secret in everything or
              secret.replace("\n", "\\n") in everything]
    assert leaked == []
    assert f.redactions >= len(SECRETS) * 4


def test_the_same_secret_gets_the_same_fingerprint(tmp_path: Path, lake: Path) -> None:
    secret = SECRETS["github_token"][0]
    src = write_lines(tmp_path / "a.jsonl", [line(seq=1, text=f"token {secret}"),
                                             line(seq=2, tool_args={"auth": f"Bearer {secret}"})])
    ingest_paths(lake, [src], now=NOW)
    texts = Lake(lake).connect().execute("select coalesce(text, '') || coalesce(tool_args, '') from events").fetchall()
    fingerprints = {m.group(2) for (t,) in texts for m in LABEL.finditer(t)}
    kinds = {m.group(1) for (t,) in texts for m in LABEL.finditer(t)}
    assert len(fingerprints) == 1 and kinds == {"github_token"}


def bench_secrets_module():
    import importlib.util

    path = ROOT / "bench" / "bench_secrets.py"
    spec = importlib.util.spec_from_file_location("bench_secrets", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


COLUMNS = ("text", "tool_args", "attrs", "trace_id", "span_id", "status", "actor", "session_id", "tool_call_id")


def test_a_thousand_generated_secrets_in_every_column_never_reach_the_lake(tmp_path: Path, lake: Path) -> None:
    import random

    bench = bench_secrets_module()
    planted = bench.planted_lines(random.Random(7), per_cell=14)
    assert len(planted) >= 1000
    lines = []
    for n, p in enumerate(planted):
        column = COLUMNS[n % len(COLUMNS)]
        value: object = {"note": p.line} if column == "attrs" else p.line
        lines.append(line(seq=n + 1, **{column: value}))
    src = write_lines(tmp_path / "planted.jsonl", lines)
    (f,) = ingest_paths(lake, [src], now=NOW).files
    assert f.events_written == len(planted) and f.quarantined == 0
    everything = every_text_in_lake(lake)
    leaked = [(p.kind, p.encoding) for p in planted for needle in p.needles if needle in everything]
    assert leaked == []


def test_secrets_in_other_formats_never_reach_the_lake(tmp_path: Path, lake: Path) -> None:
    from tests.support.otlp_builders import request, span

    secret = SECRETS["anthropic_key"][0]
    otlp = request(span(attributes={
        "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "bash", "gen_ai.tool.call.id": "c1",
        "gen_ai.conversation.id": "conv-1", "gen_ai.tool.call.arguments": f'{{"env": "KEY={secret}"}}',
        "gen_ai.tool.call.result": f"exported {secret}", "http.header.x-api-key": secret,
    }))
    (tmp_path / "traces.jsonl").write_bytes(orjson.dumps(otlp) + b"\n")
    ingest_paths(lake, [tmp_path / "traces.jsonl"], now=NOW)
    assert Lake(lake).connect().execute("select count(*) from events").fetchall()[0][0] > 0
    assert secret not in every_text_in_lake(lake)
