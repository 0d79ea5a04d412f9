"""The small, explicit context every pipeline step receives, built once from settings at the edge."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from agentwatch.errors import ConfigError
from agentwatch.flows.runners import parse_task_runner
from agentwatch.flows.sources import parse_sources
from agentwatch.ingest.receiver.spool import default_spool_dir
from agentwatch.inventory import Agent
from agentwatch.lake import Lake, lake_location, load_snapshot, use_inventory


@dataclass(frozen=True)
class RunContext:
    """What one run works on: the lake, the inventory, where its input comes from, and its clock."""

    lake_path: str | Path  # an s3:// lake stays text
    inventory: Mapping[str, Agent]  # the file given ({} without one; the stages then use the lake's snapshot)
    inventory_path: Path | None
    paths: tuple[Path, ...]  # explicit PATHs; empty: the sources and the spool
    sources: tuple[str, ...]
    spool: Path
    now: datetime  # one clock for the whole run (every stage sees the same "now")
    memory_limit: str = "2GB"
    lock_timeout: float = 600.0
    settings: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))  # all resolved settings

    @property
    def lake(self) -> Lake:
        """The lake object the later stages take."""
        return Lake(self.lake_path)

    def declared_inventory(self) -> Mapping[str, Agent]:
        """The inventory the stages use: the file given, else the one the lake remembers."""
        return self.inventory if self.inventory_path is not None else load_snapshot(self.lake)


def build_context(settings: Mapping[str, Any], paths: Iterable[str | Path] = (), *,
                  now: datetime | None = None) -> RunContext:
    """A run context from resolved settings (`agentwatch.config.load_settings`); validates what it reads."""
    lake = lake_location(settings["lake"])
    parse_task_runner(settings.get("task_runner"))  # a typo fails here, before any work, not mid-run
    inventory_path = Path(settings["inventory"]) if settings.get("inventory") else None
    return RunContext(
        lake_path=lake,
        inventory=use_inventory(Lake(lake), inventory_path, remember=False) if inventory_path else {},
        inventory_path=inventory_path,
        paths=tuple(Path(p) for p in paths),
        sources=parse_sources(settings.get("sources", "")),
        spool=Path(settings["spool"]) if settings.get("spool") else default_spool_dir(lake),
        now=now or datetime.now(UTC),
        memory_limit=str(settings.get("memory_limit", "2GB")),
        lock_timeout=_non_negative(settings.get("run_lock_timeout", 600), "run_lock_timeout"),
        settings=MappingProxyType(dict(settings)),
    )


def absolute_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings with every path made absolute, so a served flow run finds them from any folder."""
    out = dict(settings)
    for name in ("lake", "inventory", "spool", "prefect_home"):
        if out.get(name) and not str(out[name]).startswith("s3://"):
            out[name] = os.path.abspath(os.path.expanduser(str(out[name])))
    out["sources"] = [os.path.abspath(os.path.expanduser(s)) for s in parse_sources(out.get("sources", ""))]
    return out


def _non_negative(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"`{name}` must be a number of seconds >= 0, got {value!r}", name)
    return float(value)
