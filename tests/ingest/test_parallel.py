"""Ingest split for a cluster: files decoded apart (as Dask workers do) and committed by one writer
give the very lake `ingest_paths` gives, duplicates, quarantine and unreadable files included; the
pipeline's parallel path (metrics rounds mapped too) gives the single-process tables."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from agentwatch.errors import ConfigError
from agentwatch.flows import steps
from agentwatch.flows.context import build_context
from agentwatch.flows.pipeline import DirectRunner, run_pipeline
from agentwatch.flows.runners import local_cluster_options
from agentwatch.ingest.parallel import DECODE_DIR, commit_decoded, decode_file
from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.lake import ROUNDS_DIR, Lake
from tests.flows.flow_support import SAMPLE, flow_settings
from tests.support.native_lines import line, write_lines

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def mixed_inputs(folder: Path) -> list[Path]:
    """Two sessions, a copy of one file, a line repeated across files, bad lines and a planted key."""
    folder.mkdir()
    a = write_lines(folder / "a.jsonl", [line(seq=i, session_id="s-a") for i in range(1, 40)] + [b"{not json"])
    b = write_lines(folder / "b.jsonl", [line(seq=1, session_id="s-a"),
                                         line(seq=2, session_id="s-b", text="key AKIAIOSFODNN7EXAMPLE leaked"),
                                         b'{"ts": 5}'])
    copy = folder / "c.jsonl"
    copy.write_bytes(a.read_bytes())
    return [a, b, copy]


def lake_files(lake: Path) -> dict[str, bytes]:
    """Every committed table file and manifest entry, by path (the lake, byte for byte)."""
    return {str(p.relative_to(lake)): p.read_bytes() for p in sorted(lake.rglob("*"))
            if p.is_file() and p.suffix in (".json", ".parquet") and not {"_tmp", DECODE_DIR} & set(p.parts)}


def test_decoding_apart_then_committing_writes_the_same_lake_as_one_ingest(tmp_path: Path) -> None:
    files = mixed_inputs(tmp_path / "in")
    ingest_paths(tmp_path / "serial", files, now=NOW)
    split = tmp_path / "split"
    decoded = [decode_file(split, p, split / DECODE_DIR / f"{n}", NOW) for n, p in enumerate(files)]
    report = commit_decoded(split, decoded, NOW)
    assert [f.status for f in report.files] == ["ingested", "ingested", "skipped_duplicate_content"]
    assert report.files[0].quarantined == 1 and report.files[1].redactions == 1
    assert lake_files(tmp_path / "split") == lake_files(tmp_path / "serial")


def test_a_file_already_in_the_lake_is_not_decoded_again(tmp_path: Path) -> None:
    files = mixed_inputs(tmp_path / "in")
    lake = tmp_path / "lake"
    ingest_paths(lake, files[:1], now=NOW)
    decoded = decode_file(lake, files[0], lake / DECODE_DIR / "0", NOW)
    assert not decoded.parts.exists()
    assert commit_decoded(lake, [decoded], NOW).entry is None
    assert len(Lake(lake).entries()) == 1


class MappingRunner(DirectRunner):
    """The direct runner taking the parallel path (what the Dask runner does, without a cluster)."""

    parallel = True


def test_the_parallel_path_of_the_pipeline_gives_the_single_process_lake(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    mixed_inputs(inputs)
    broken = inputs / "broken.jsonl.gz"
    broken.write_bytes(gzip.compress(b"".join(line(seq=i) + b"\n" for i in range(1, 300)))[:200])
    settings = {"inventory": str(SAMPLE / "agents.yaml")}
    runs = {}
    for name, runner in (("direct", DirectRunner()), ("mapped", MappingRunner())):
        ctx = build_context(flow_settings(tmp_path / name, **settings), [inputs, SAMPLE / "native"], now=NOW)
        runs[name] = run_pipeline(ctx, runner)
    direct, mapped = (lake_files(tmp_path / name) for name in ("direct", "mapped"))
    assert not runs["mapped"].failed
    assert {k: v for k, v in direct.items() if k.startswith(("events/", "_quarantine/"))} == \
        {k: v for k, v in mapped.items() if k.startswith(("events/", "_quarantine/"))}
    assert read_rows(tmp_path / "direct") == read_rows(tmp_path / "mapped")
    assert [s.summary for s in runs["direct"].steps if s.name == "ingest"] == \
        [s.summary for s in runs["mapped"].steps if s.name == "ingest"]
    assert not any((tmp_path / "mapped" / DECODE_DIR).iterdir())
    assert [s.name for s in runs["mapped"].steps if s.name.startswith("metrics")] == ["metrics plan", "metrics"]
    assert not any((tmp_path / "mapped" / ROUNDS_DIR).iterdir())  # the rounds' parts, gone once committed


def read_rows(lake: Path) -> dict[str, list]:
    """Steps, sessions and findings of a lake, row by row."""
    return {table: sorted(map(str, pq.read_table(Lake(lake).table_files(table)).to_pylist()))
            for table in ("steps", "sessions", "findings")}


def test_an_unknown_task_runner_is_a_mistake_named_by_its_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="`task_runner` must be `thread`, `dask` or a Dask scheduler address"):
        build_context(flow_settings(tmp_path / "lake", task_runner="threads"))
    with pytest.raises(ConfigError, match="`dask_workers` must be a whole number >= 1"):
        local_cluster_options(0)
    assert local_cluster_options(2)["host"] == "127.0.0.1"
    assert build_context(flow_settings(tmp_path / "lake", task_runner="tcp://10.0.0.5:8786")).lake_path


def test_a_file_that_cannot_be_read_is_left_out_named_and_its_parts_removed(tmp_path: Path) -> None:
    good = mixed_inputs(tmp_path / "in")[0]
    gone = tmp_path / "in" / "gone.jsonl"
    ctx = build_context(flow_settings(tmp_path / "lake"), now=NOW)
    scratch = steps.prepare_decode(ctx)
    decoded = tuple(decode_file(*args) for args in steps.decode_arguments(ctx, (good, gone), scratch))
    summary = steps.commit_batch(ctx, decoded, scratch)
    assert summary.ingested == 1 and summary.events_written == 39 and summary.quarantined == 1
    assert [(f.path, f.reason.startswith("cannot read input")) for f in summary.failures] == [(str(gone), True)]
    assert not scratch.exists()
