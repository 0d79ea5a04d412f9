"""Settings, declared once as data: name, default, environment variable, help.

Precedence: command-line flag > environment variable > config file (`agentwatch.toml`, or the file
named by `--config` / `AGENTWATCH_CONFIG`) > default. Only the edges (CLI, flows, app) read settings;
everything inside takes explicit arguments.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentwatch.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    """One documented setting."""

    name: str
    default: Any
    help: str
    bounds: tuple[int, int | None] | None = None  # inclusive range of an integer setting
    size: bool = False  # a memory size as DuckDB reads it (512MB, 2GB, 1.5GiB)

    @property
    def env(self) -> str:
        """The environment variable that overrides it."""
        return f"AGENTWATCH_{self.name.upper()}"


SETTINGS = (
    Setting("lake", "./data/lake", "Folder of the Parquet lake, or s3://bucket/prefix on object storage."),
    Setting("inventory", "", "Agent inventory YAML; empty: none (scope and approvals unchecked)."),
    Setting("spool", "", "Folder the OTLP receiver spools to; empty: <lake>/_spool/otlp."),
    Setting("receiver_host", "127.0.0.1", "Address `agentwatch receive` listens on."),
    Setting("receiver_port", 4318, "Port `agentwatch receive` listens on (OTLP/HTTP default).", bounds=(1, 65535)),
    Setting("risk_high", 3, "Risk model: a dimension, vulnerability or value above this is high (1-5 scale).",
            bounds=(1, 5)),
    Setting("risk_gap", 2, "Risk model: measured this much riskier than declared is a finding.", bounds=(1, 4)),
    Setting("risk_controls", "", "Risk model: controls YAML (which control moves which dimension); empty: packaged."),
    Setting("memory_limit", "2GB",
            "DuckDB memory limit of ingest, metrics, detect and risk (spills to disk beyond it).", size=True),
    Setting("receiver_grpc_port", 4317, "Port of `agentwatch receive`'s OTLP/gRPC endpoint; 0 disables it.",
            bounds=(0, 65535)),
    Setting("playbooks", "", "Escalation playbooks YAML for `agentwatch escalate`; empty: none."),
    Setting("rules_dirs", "", "Folders (or files) of your own rules, beside the built-in catalog; ':'-separated."),
    Setting("sources", "", "Folders, files or globs `run`/`serve` ingest from (TOML list, or os.pathsep-separated)."),
    Setting("nightly_cron", "0 2 * * *", "Cron schedule of the nightly run (`agentwatch serve`)."),
    Setting("schedule_timezone", "", "IANA time zone of the nightly cron; empty: this machine's local zone."),
    Setting("guard_interval", 30, "Seconds between guard runs (`agentwatch serve`): new events to escalation.",
            bounds=(1, None)),
    Setting("run_lock_timeout", 600, "Seconds a run waits for another run of the same lake before refusing.",
            bounds=(0, None)),
    Setting("prefect_home", "", "PREFECT_HOME for `run --prefect` and `serve`; empty: <lake>/_prefect."),
    Setting("task_runner", "thread", "Where the nightly flow's tasks run: `thread` (this process), `dask` (a local "
            "cluster on 127.0.0.1), or a Dask scheduler address (tcp://host:8786) whose workers see the lake."),
    Setting("dask_workers", 2, "Worker processes of the local Dask cluster (`task_runner = \"dask\"`).",
            bounds=(1, None)),
    Setting("prefect_port", 4200, "Port of the local Prefect server `serve` starts when PREFECT_API_URL is unset.",
            bounds=(1, 65535)),
)
BY_NAME = {s.name: s for s in SETTINGS}
DEFAULT_CONFIG = "agentwatch.toml"
SIZE = re.compile(r"\d+(\.\d+)?\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)", re.IGNORECASE)


def load_settings(config: str | None = None, flags: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Resolve every setting from flags, environment, config file and defaults."""
    values = {s.name: s.default for s in SETTINGS}
    values.update(_read_config(config or os.environ.get("AGENTWATCH_CONFIG") or DEFAULT_CONFIG, config is not None))
    for s in SETTINGS:
        if s.env in os.environ:
            values[s.name] = _coerce(s, os.environ[s.env], s.env)
    for name, value in (flags or {}).items():
        if value is not None:
            values[name] = value
    return values


def path_list(value: Any) -> list[str]:
    """A list-of-paths setting: a TOML list, or text separated by the OS path separator (':')."""
    parts = value if isinstance(value, list | tuple) else str(value or "").split(os.pathsep)
    return [p for p in (str(x).strip() for x in parts) if p]


def _read_config(path: str, required: bool) -> dict[str, Any]:
    file = Path(path)
    if not file.exists():
        if required:
            raise ConfigError("config file not found", path)
        return {}
    try:
        doc = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config: {exc}", path) from exc
    unknown = sorted(set(doc) - set(BY_NAME))
    if unknown:
        raise ConfigError(f"unknown settings {unknown}; known: {', '.join(BY_NAME)}", path)
    return {name: _coerce(BY_NAME[name], value, f"{path}: {name}") for name, value in doc.items()}


def _coerce(setting: Setting, value: Any, where: str) -> Any:
    """The value in the setting's type, checked against its range; a ConfigError naming where it came from."""
    if isinstance(setting.default, int) and not isinstance(value, int):
        try:
            value = int(value)
        except ValueError as exc:
            raise ConfigError(f"`{setting.name}` must be an integer, got {value!r}", where) from exc
    if setting.bounds and not _within(value, *setting.bounds):
        low, high = setting.bounds
        allowed = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise ConfigError(f"`{setting.name}` must be {allowed}, got {value}", where)
    if setting.size and not SIZE.fullmatch(str(value).strip()):
        raise ConfigError(f"`{setting.name}` must be a size like 512MB or 2GB, got {value!r}", where)
    return value


def _within(value: int, low: int, high: int | None) -> bool:
    return value >= low and (high is None or value <= high)
