"""The agent inventory (`agents.yaml`): who each agent is, what its owner declared, what it may touch.

File shape (one entry per agent):

    agents:
      - agent_id: cicd-assistant
        owner: platform-eng@example.com
        purpose: Reviews pull requests, pushes fixes, triggers staging deploys.
        business_value: 5                      # 1-5, declared by the owner
        declared: {access: 5, action: 4, autonomy: 4, oversight: 1, goal_stability: 3, monitoring: 2}
        allowed_tools: [git_diff, git_push, run_tests]
        scope:                                 # glob patterns per resource kind
          repos: ["acme/payments-api"]
          paths: ["/workspace/payments-api/**"]
          hosts: ["github.example.com"]
          tables: []
          emails: []
          accounts: []
          cloud: []
        approval_required: [git_push, deploy_staging]   # tool names needing a signed approval
        approval_keys: {alice-2026: "<base64 Ed25519 public key>"}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from agentwatch.errors import ConfigError

DIMENSIONS = ("access", "action", "autonomy", "oversight", "goal_stability", "monitoring")
SCOPE_KINDS = ("repos", "paths", "hosts", "tables", "emails", "accounts", "cloud")


@dataclass(frozen=True)
class Agent:
    """One inventory entry."""

    agent_id: str
    owner: str
    purpose: str
    business_value: int
    declared: MappingProxyType  # dimension -> 1..5
    allowed_tools: tuple[str, ...]
    scope: MappingProxyType  # kind -> tuple of glob patterns
    approval_required: tuple[str, ...]
    approval_keys: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))


def load_inventory(path: str | Path) -> dict[str, Agent]:
    """Read and validate an inventory file; errors name the file and the entry."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read inventory: {exc}", str(path)) from exc
    entries = (doc or {}).get("agents") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise ConfigError("inventory must have a top-level list `agents`", str(path))
    agents: dict[str, Agent] = {}
    for index, entry in enumerate(entries):
        agent = _parse_agent(entry, f"{path}: agents[{index}]")
        if agent.agent_id in agents:
            raise ConfigError(f"duplicate agent_id {agent.agent_id!r}", f"{path}: agents[{index}]")
        agents[agent.agent_id] = agent
    return agents


def _parse_agent(entry: Any, where: str) -> Agent:
    if not isinstance(entry, dict):
        raise ConfigError("entry must be a mapping", where)
    agent_id = _require(entry, "agent_id", str, where)
    where = f"{where} ({agent_id})"
    declared = _require(entry, "declared", dict, where)
    missing = [d for d in DIMENSIONS if d not in declared]
    if missing:
        raise ConfigError(f"declared scores missing {', '.join(missing)}", where)
    for name in DIMENSIONS:
        _check_score(declared[name], f"declared.{name}", where)
    value = _require(entry, "business_value", int, where)
    _check_score(value, "business_value", where)
    scope = entry.get("scope") or {}
    unknown = set(scope) - set(SCOPE_KINDS)
    if unknown:
        raise ConfigError(f"unknown scope kinds {sorted(unknown)}; known: {', '.join(SCOPE_KINDS)}", where)
    return Agent(
        agent_id=agent_id,
        owner=str(entry.get("owner", "")),
        purpose=str(entry.get("purpose", "")),
        business_value=value,
        declared=MappingProxyType({d: int(declared[d]) for d in DIMENSIONS}),
        allowed_tools=tuple(entry.get("allowed_tools") or ()),
        scope=MappingProxyType({k: tuple(scope.get(k) or ()) for k in SCOPE_KINDS}),
        approval_required=tuple(entry.get("approval_required") or ()),
        approval_keys=MappingProxyType(dict(entry.get("approval_keys") or {})),
    )


def _require(entry: dict, key: str, kind: type, where: str) -> Any:
    value = entry.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ConfigError(f"`{key}` must be a {kind.__name__}", where)
    return value


def _check_score(value: Any, name: str, where: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
        raise ConfigError(f"`{name}` must be an integer from 1 to 5, got {value!r}", where)
