"""One pipeline run per lake at a time: a second run (the guard while the nightly runs, two cron jobs)
waits for the first with a bounded timeout, then refuses with a clear message.

The lake's own writer lock (`Lake.writer`) already makes concurrent writers safe, but it refuses at
once; a run holds many writer sessions in turn (ingest batches, metrics, ...), so without this lock
two runs would interleave and the loser would fail half-way through its night.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agentwatch.errors import LakeError
from agentwatch.lake import RUN_LOCK, local_folder

POLL_SECONDS = 0.2


class RunBusy(LakeError):
    """Another run held the lake for longer than this run was willing to wait."""


@contextmanager
def run_lock(lake: str | Path, timeout: float) -> Iterator[float]:
    """Hold the lake's run lock; yields the seconds spent waiting for it."""
    folder = local_folder(lake)  # an s3:// lake's run lock is its working folder's (the writer lock guards the bucket)
    folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(folder / RUN_LOCK, "w") as handle:
        while not _try_lock(handle):
            if time.monotonic() - started >= timeout:
                raise RunBusy(f"another agentwatch run has held this lake for over {timeout:g} s "
                              "(setting run_lock_timeout); try again when it ends", str(lake))
            time.sleep(POLL_SECONDS)
        yield time.monotonic() - started


def _try_lock(handle) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
