"""What every command gets: the settings resolved once per invocation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentwatch.lake import lake_location


class Context:
    """Settings resolved once per invocation."""

    def __init__(self, settings: dict[str, Any]):
        self.settings = settings
        self.lake = lake_location(settings["lake"])
        self.inventory = Path(settings["inventory"]) if settings["inventory"] else None

    @property
    def spool(self) -> Path:
        """The OTLP receiver's spool folder."""
        from agentwatch.ingest.receiver.spool import default_spool_dir

        return Path(self.settings["spool"]) if self.settings["spool"] else default_spool_dir(self.lake)
