"""No planted secret survives anywhere in the lake: events (every column), quarantine (raw records
and reasons), manifest entries, Parquet footers; the fingerprints still correlate repeats."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pyarrow.parquet as pq

from agentwatch.detectors.catalog import connect
from agentwatch.ingest.pipeline import ingest_paths
from tests.native_lines import line, write_lines
from tests.test_redact import SECRETS

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
    texts = connect(lake).execute("select coalesce(text, '') || coalesce(tool_args, '') from events").fetchall()
    fingerprints = {m.group(2) for (t,) in texts for m in LABEL.finditer(t)}
    kinds = {m.group(1) for (t,) in texts for m in LABEL.finditer(t)}
    assert len(fingerprints) == 1 and kinds == {"github_token"}
