"""Local staging folders of a store: where a writer builds files before the store publishes them.

Both stores keep them under `root`: a local lake's own folder (so publishing is a rename on the same
file system), an object-store lake's local working folder (so publishing is one upload).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from agentwatch.lake.layout import TMP_DIR


class LocalScratch:
    """Scratch folders under `self.root`, for a store class to inherit."""

    root: Path

    def scratch(self, name: str) -> Path:
        """A local staging folder for one writer, created when missing."""
        path = self.root / TMP_DIR / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def clear_scratch(self) -> None:
        """Remove every staging folder (only under the writer lock: they are a dead writer's)."""
        shutil.rmtree(self.root / TMP_DIR, ignore_errors=True)
