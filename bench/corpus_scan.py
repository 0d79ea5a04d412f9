"""Ingest the independent secret corpus into a fresh lake and look for every planted secret in every
lake file: event and quarantine Parquet (every column, raw bytes too), manifest entries, file names."""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pyarrow.parquet as pq

from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.ingest.sanitize.sanitizer import Sanitizer
from bench.secret_corpus import Planted, build_corpus

NOW = datetime(2026, 11, 25, tzinfo=UTC)


@dataclass(frozen=True)
class CorpusResult:
    """Planted secrets with whether each stayed out, look-alikes with whether each was masked."""

    kept_out: list[tuple[Planted, bool]]
    benign_masked: list[tuple[str, bool]]
    broken_json: int
    missing_from_input: int


def lake_text(lake: Path) -> str:
    """Every value of every lake file as text, and every file name in the lake."""
    chunks = [str(path.relative_to(lake)) for path in lake.rglob("*")]
    for path in lake.rglob("*"):
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            for column in table.columns:
                chunks += [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in column.to_pylist()]
            chunks.append(str(pq.ParquetFile(path).metadata.to_dict()))
        elif path.is_file() and "_keys" not in path.parts:
            chunks.append(path.read_text(errors="replace"))
    return "\n".join(chunks)


def _broken_json(lake: Path) -> int:
    broken = 0
    for path in (lake / "events").rglob("*.parquet"):
        for column in ("tool_args", "attrs"):
            for value in pq.read_table(path, columns=[column]).column(0).to_pylist():
                try:
                    value is None or orjson.loads(value)
                except orjson.JSONDecodeError:
                    broken += 1
    return broken


def run_corpus(seed: int, reps: int, oversize: bool = True) -> CorpusResult:
    """Build, ingest and scan the corpus in a temporary folder."""
    with tempfile.TemporaryDirectory() as tmp:
        inputs, lake = Path(tmp) / "in", Path(tmp) / "lake"
        inputs.mkdir()
        planted, benign = build_corpus(inputs, seed, reps, oversize)
        source = _input_text(inputs)
        ingest_paths(lake, [inputs], now=NOW, sanitizer=Sanitizer(b"corpus-key"))
        found = lake_text(lake)
        kept = [(p, not any(n in found for n in p.needles)) for p in planted]
        missing = sum(not any(n in source for n in p.needles) for p in planted)
        masked = [(kind, value not in found) for kind, value in benign]
        return CorpusResult(kept, masked, _broken_json(lake), missing)


def _input_text(folder: Path) -> str:
    """The inputs as written (names too), to check that each needle was really planted."""
    parts = [str(p) for p in folder.rglob("*")]
    parts += [p.read_bytes()[: 1 << 20].decode("utf-8", "replace") for p in folder.rglob("*.jsonl")]
    return "\n".join(parts).replace("\\n", "\n") + "\n".join(parts)


def report(result: CorpusResult) -> None:
    """Print recall per type and per context, and look-alikes masked per kind."""
    by_type, by_type_ok = Counter(), Counter()
    by_ctx, by_ctx_ok = Counter(), Counter()
    for p, ok in result.kept_out:
        by_type[p.kind] += 1
        by_type_ok[p.kind] += ok
        by_ctx[p.context] += 1
        by_ctx_ok[p.context] += ok
    total, ok = len(result.kept_out), sum(ok for _, ok in result.kept_out)
    print(
        f"independent corpus: {total} planted secrets of {len(by_type)} types"
        f" ({result.missing_from_input} not found in the inputs)"
    )
    print(f"{'type':22} kept out of the lake")
    for kind in by_type:
        print(f"  {kind:20} {by_type_ok[kind] / by_type[kind]:7.2%}  ({by_type_ok[kind]}/{by_type[kind]})")
    print(f"{'context':22} kept out")
    for ctx in by_ctx:
        print(f"  {ctx:20} {by_ctx_ok[ctx] / by_ctx[ctx]:7.2%}  ({by_ctx_ok[ctx]}/{by_ctx[ctx]})")
    print(
        f"overall kept out       {ok / total:7.2%}  ({ok}/{total});"
        f" min per type {min(by_type_ok[k] / by_type[k] for k in by_type):.2%}"
    )
    leaks = [f"{p.kind}/{p.context}" for p, kept in result.kept_out if not kept]
    print(f"leaked: {', '.join(leaks) or 'none'}")
    fp = Counter(kind for kind, masked in result.benign_masked if masked)
    n = len(result.benign_masked)
    print(
        f"look-alikes masked     {sum(fp.values()) / n:7.3%}  ({sum(fp.values())} of {n});"
        f" by kind: {dict(fp) or 'none'}"
    )
    print(f"masked JSON that no longer parses: {result.broken_json}")
