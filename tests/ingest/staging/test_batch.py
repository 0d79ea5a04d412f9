"""Staging: a batch held in memory, one staged on disk, and one that outgrows memory half way write the
very same lake (events sorted, duplicates dropped, identities and tool names reconciled, quarantine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.ingest.sanitize.sanitizer import KEY_ENV
from agentwatch.ingest.staging import batch as stage
from tests.flows.flow_support import SAMPLE
from tests.ingest.test_parallel import NOW, lake_files, mixed_inputs


def ingest_with_budget(monkeypatch: pytest.MonkeyPatch, lake: Path, files: list[Path], budget: int) -> None:
    """Ingest with `budget` bytes to hold events in (StagedBatch holds up to half the memory limit)."""
    monkeypatch.setattr(stage, "memory_bytes", lambda limit: 2 * budget)
    ingest_paths(lake, files, now=NOW)


def test_memory_limits_read_as_duckdb_reads_them() -> None:
    assert stage.memory_bytes("1GB") == 10**9
    assert stage.memory_bytes("512 MiB") == 512 << 20
    assert stage.memory_bytes("1.5gib") == 3 << 29
    assert stage.memory_bytes("lots") == 0


@pytest.mark.parametrize("budget", [0, 20_000], ids=["on_disk", "spilled_half_way"])
def test_held_and_staged_batches_write_the_same_lake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, budget: int
) -> None:
    monkeypatch.setenv(KEY_ENV, "one key for both lakes")  # the same secrets get the same fingerprints
    files = [*mixed_inputs(tmp_path / "in"), SAMPLE]
    ingest_with_budget(monkeypatch, tmp_path / "held", files, 1 << 30)
    # 20 kB holds a.jsonl and b.jsonl (about 10 kB), then the sample fleet spills them to disk
    ingest_with_budget(monkeypatch, tmp_path / "staged", files, budget)
    held = lake_files(tmp_path / "held")
    assert any("/events/" in f"/{name}" for name in held) and any("quarantine" in name for name in held)
    assert lake_files(tmp_path / "staged") == held


def test_the_held_path_is_the_one_a_small_batch_takes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    taken = []
    monkeypatch.setattr(stage.StagedBatch, "_write_held", lambda self, held: taken.append(len(held)))
    ingest_paths(tmp_path / "lake", mixed_inputs(tmp_path / "in"), now=NOW)
    assert taken == [40 + 1]  # a.jsonl's 39 events, b.jsonl's 2 (the copy c.jsonl is skipped)
