"""The lake's guarantees: atomic commits, a writer killed mid-run leaves nothing visible, and
`verify` catches every kind of tampering with a precise message."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agentwatch.errors import LakeError
from agentwatch.ingest.pipeline import ingest_paths
from agentwatch.lake import Lake, LakeWriter
from agentwatch.lake.verify import verify_lake
from tests.support.native_lines import line, write_lines

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def two_batches(tmp_path: Path, lake: Path) -> None:
    a = write_lines(tmp_path / "a.jsonl", [line(seq=i) for i in range(1, 4)] + [b"bad"])
    b = write_lines(tmp_path / "b.jsonl", [line(seq=i, ts="2026-11-21T00:00:00Z") for i in range(1, 4)])
    ingest_paths(lake, [a], now=NOW)
    ingest_paths(lake, [b], now=NOW)


def problems(lake: Path, head: str | None = None) -> list[str]:
    return list(verify_lake(lake, head).problems)


def test_untouched_lake_verifies(tmp_path: Path, lake: Path) -> None:
    two_batches(tmp_path, lake)
    result = verify_lake(lake)
    assert (result.entries, result.files, result.problems) == (2, 3, ())


def test_verify_catches_a_changed_file(tmp_path: Path, lake: Path) -> None:
    two_batches(tmp_path, lake)
    target = sorted((lake / "events").rglob("*.parquet"))[0]
    data = bytearray(target.read_bytes())
    data[100] ^= 0xFF
    target.write_bytes(bytes(data))
    (found,) = problems(lake)
    assert found.startswith(f"{target.relative_to(lake).as_posix()}: content changed (manifest entry 1 has sha256")


def test_verify_catches_a_removed_file(tmp_path: Path, lake: Path) -> None:
    two_batches(tmp_path, lake)
    target = next((lake / "_quarantine").glob("*.parquet"))
    target.unlink()
    rel = target.relative_to(lake).as_posix()
    assert problems(lake) == [f"{rel}: listed in manifest entry 1 but missing (removed after the fact)"]


def test_verify_catches_an_added_file(tmp_path: Path, lake: Path) -> None:
    two_batches(tmp_path, lake)
    extra = lake / "events" / "date=2026-11-20" / "sneaky.parquet"
    extra.write_bytes(next((lake / "events").rglob("*.parquet")).read_bytes())
    assert problems(lake) == [
        "events/date=2026-11-20/sneaky.parquet: file is not in the manifest (added after the fact?)"
    ]


def test_verify_catches_reordered_entries(tmp_path: Path, lake: Path) -> None:
    two_batches(tmp_path, lake)
    first, second = sorted((lake / "_manifest").glob("*.json"))
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b)
    second.write_bytes(a)
    found = problems(lake)
    assert "_manifest/00000001.json: holds entry seq 2, expected 1 (removed or reordered)" in found
    assert (
        "_manifest/00000002.json: prev_hash does not match the entry before it (removed, reordered or edited)"
        in found
    )


def test_verify_catches_an_edited_entry(tmp_path: Path, lake: Path) -> None:
    two_batches(tmp_path, lake)
    path = lake / "_manifest" / "00000001.json"
    entry = json.loads(path.read_text())
    entry["inputs"][0]["quarantined"] = 0
    path.write_text(json.dumps(entry))
    assert "_manifest/00000001.json: entry was edited after it was written (hash mismatch)" in problems(lake)


def test_verify_catches_a_removed_entry(tmp_path: Path, lake: Path) -> None:
    two_batches(tmp_path, lake)
    head = verify_lake(lake).head
    last = lake / "_manifest" / "00000002.json"
    outputs = json.loads(last.read_text())["outputs"]
    last.unlink()
    found = problems(lake, head)
    assert outputs[0]["path"] not in " ".join(found)  # alone, a removed tail looks like a writer killed before
    assert any(f.startswith(f"{outputs[0]['path']}: written for manifest entry 2, which was never committed")
               for f in verify_lake(lake).leftovers)  # its commit...
    assert any(p.startswith("manifest head is ") and p.endswith(f"expected {head} (entries removed or rewritten?)")
               for p in found)
    (lake / outputs[0]["path"]).unlink()
    assert len(problems(lake, head)) == 1  # ...so a removed tail is only visible against a recorded head


def test_crash_before_commit_leaves_nothing_visible_and_next_run_completes(
    tmp_path: Path, lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = write_lines(tmp_path / "a.jsonl", [line(seq=i) for i in range(1, 6)])

    def die(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt("killed between publishing files and the manifest commit")

    commit = LakeWriter.commit
    monkeypatch.setattr(LakeWriter, "commit", die)
    with pytest.raises(KeyboardInterrupt):
        ingest_paths(lake, [src], now=NOW)
    with pytest.raises(LakeError, match="no lake here"):  # nothing was ever committed
        Lake(lake).connect()
    assert any(p.startswith("events/") for p in verify_lake(lake).leftovers)  # the orphan is visible to verify
    monkeypatch.setattr(LakeWriter, "commit", commit)
    report = ingest_paths(lake, [src], now=NOW)
    assert report.files[0].events_written == 5
    assert problems(lake) == []


KILL_AFTER_FIRST_PUBLISH = """
import os, signal, sys
from pathlib import Path
from agentwatch.lake import LakeWriter
from agentwatch.ingest.pipeline import ingest_paths
publish = LakeWriter.publish
def publish_then_die(*args, **kwargs):
    publish(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)  # a real kill, after one file is in place, before the commit
LakeWriter.publish = publish_then_die
ingest_paths(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]])
"""


def test_writer_killed_mid_write_leaves_no_partial_file(tmp_path: Path, lake: Path) -> None:
    big = write_lines(tmp_path / "big.jsonl", [line(seq=i, text="x" * 200, ts=f"2026-11-{10 + i % 3}T00:00:00Z")
                                               for i in range(1, 30_000)])
    proc = subprocess.run([sys.executable, "-c", KILL_AFTER_FIRST_PUBLISH, str(lake), str(big)], timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert len(list((lake / "events").rglob("*.parquet"))) == 1  # one file was renamed into place...
    assert not Lake(lake).exists()  # ...but is not visible: nothing was committed
    assert list((lake / "_manifest").glob("*.json")) == []
    report = ingest_paths(lake, [big], now=NOW)
    assert report.files[0].events_written == 29_999
    assert problems(lake) == []
    assert not (lake / "_tmp").exists()


def test_second_writer_is_refused(lake: Path) -> None:
    with (
        Lake(lake).writer(),
        pytest.raises(LakeError, match="another agentwatch process is writing this lake"),
        Lake(lake).writer(),
    ):
        pass


def test_manifest_view_reconciles_every_file(tmp_path: Path, lake: Path) -> None:
    two_batches(tmp_path, lake)
    got = Lake(lake).connect().execute(
        "select entry_seq, records_read, events_written + duplicates + quarantined + skipped, reconciled "
        "from manifest order by entry_seq"
    ).fetchall()
    assert got == [(1, 4, 4, True), (2, 3, 3, True)]


def test_a_line_over_the_limit_is_quarantined_with_its_head(tmp_path: Path) -> None:
    from agentwatch.ingest.reader import OversizeLine, iter_line_batches

    huge = b'{"text": "' + b"y" * 5000 + b'"}'
    src = write_lines(tmp_path / "o.jsonl", [line(seq=1), huge, line(seq=3)])
    items = list(iter_line_batches(src, chunk_bytes=1024, max_line_bytes=2048))
    oversize = [i for i in items if isinstance(i, OversizeLine)]
    kept = [bytes(x.as_py()) for i in items if not isinstance(i, OversizeLine) for x in i.lines]
    assert [(o.line_no, o.length, o.offset) for o in oversize] == [(2, len(huge), len(line(seq=1)) + 1)]
    assert oversize[0].head == huge[: len(oversize[0].head)] and len(oversize[0].head) <= 64 << 10
    assert [k for k in kept if k] == [line(seq=1), line(seq=3)]
    line_nos = [int(n) for i in items if not isinstance(i, OversizeLine) for n in i.line_nos]
    assert 3 in line_nos and 2 not in line_nos
