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
        controls: [telemetry]                  # framework controls already in place (optional)

`load_inventory` reads a file; `parse_inventory` validates a document already read (the lake keeps
a snapshot of it). Every problem is collected, each naming its file, entry and key, and reported at
once in one `InventoryError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from agentwatch.errors import ConfigError

DIMENSIONS = ("access", "action", "autonomy", "oversight", "goal_stability", "monitoring")
SCOPE_KINDS = ("repos", "paths", "hosts", "tables", "emails", "accounts", "cloud")
KNOWN_KEYS = ("agent_id", "owner", "purpose", "business_value", "declared", "allowed_tools", "scope",
              "approval_required", "approval_keys", "controls")
CONTROL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


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
    controls: tuple[str, ...] = ()  # framework controls the owner says are in place


class InventoryError(ConfigError):
    """One or more problems in an inventory; `problems` holds each (message, where)."""

    def __init__(self, problems: list[tuple[str, str]], where: str):
        self.problems = tuple(problems)
        listed = "; ".join(f"{what} in {at}" for what, at in self.problems)
        super().__init__(f"invalid inventory ({len(self.problems)} problem{'s' * (len(self.problems) > 1)}): "
                         f"{listed}", where)


def load_inventory(path: str | Path) -> dict[str, Agent]:
    """Read and validate an inventory file; errors name the file and the entry."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read inventory: {exc}", str(path)) from exc
    return parse_inventory(doc, str(path))


def parse_inventory(doc: Any, where: str) -> dict[str, Agent]:
    """Validate an inventory document (parsed YAML); `where` names its origin in every error."""
    entries = doc.get("agents") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise InventoryError([("inventory must have a top-level list `agents`", where)], where)
    problems: list[tuple[str, str]] = []
    agents: dict[str, Agent] = {}
    for index, entry in enumerate(entries):
        at = f"{where}: agents[{index}]"
        agent = _parse_agent(entry, at, problems)
        if agent is None:
            continue
        if agent.agent_id in agents:
            problems.append((f"duplicate agent_id {agent.agent_id!r}", f"{at} ({agent.agent_id})"))
        agents[agent.agent_id] = agent
    if problems:
        raise InventoryError(problems, where)
    return agents


def _parse_agent(entry: Any, where: str, problems: list[tuple[str, str]]) -> Agent | None:
    if not isinstance(entry, dict):
        problems.append(("entry must be a mapping", where))
        return None
    agent_id = entry.get("agent_id")
    if not isinstance(agent_id, str) or not agent_id:
        problems.append(("`agent_id` must be a non-empty string", where))
        agent_id = "?"
    else:
        where = f"{where} ({agent_id})"
    before = len(problems)
    unknown = sorted(str(k) for k in set(entry) - set(KNOWN_KEYS))
    if unknown:
        problems.append((f"unknown keys {unknown}; known: {', '.join(KNOWN_KEYS)}", where))
    declared = _parse_declared(entry.get("declared"), where, problems)
    value = _check_score(entry.get("business_value"), "business_value", where, problems)
    scope = _parse_scope(entry.get("scope"), where, problems)
    tools = _string_list(entry, "allowed_tools", where, problems)
    required = _string_list(entry, "approval_required", where, problems)
    controls = _string_list(entry, "controls", where, problems)
    for name in controls:
        if not CONTROL_NAME.match(name):
            problems.append((f"`controls` entry {name!r} is not a control name (lowercase, _)", where))
    keys = entry.get("approval_keys") or {}
    if not isinstance(keys, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in keys.items()):
        problems.append(("`approval_keys` must map key ids to base64 public keys (strings)", where))
        keys = {}
    for key in ("owner", "purpose"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            problems.append((f"`{key}` must be a string", where))
    if len(problems) > before or agent_id == "?":
        return None
    return Agent(
        agent_id=agent_id,
        owner=str(entry.get("owner") or ""),
        purpose=str(entry.get("purpose") or ""),
        business_value=value,
        declared=MappingProxyType(declared),
        allowed_tools=tools,
        scope=MappingProxyType(scope),
        approval_required=required,
        approval_keys=MappingProxyType(dict(keys)),
        controls=controls,
    )


def _parse_declared(declared: Any, where: str, problems: list[tuple[str, str]]) -> dict[str, int]:
    if not isinstance(declared, dict):
        problems.append((f"`declared` must be a mapping of the six dimensions ({', '.join(DIMENSIONS)})", where))
        return {}
    missing = [d for d in DIMENSIONS if d not in declared]
    if missing:
        problems.append((f"declared scores missing {', '.join(missing)}", where))
    unknown = sorted(str(k) for k in set(declared) - set(DIMENSIONS))
    if unknown:
        problems.append((f"unknown declared dimensions {unknown}; known: {', '.join(DIMENSIONS)}", where))
    return {d: _check_score(declared[d], f"declared.{d}", where, problems) for d in DIMENSIONS if d in declared}


def _parse_scope(scope: Any, where: str, problems: list[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    scope = scope or {}
    if not isinstance(scope, dict):
        problems.append(("`scope` must be a mapping of resource kinds to glob patterns", where))
        return {k: () for k in SCOPE_KINDS}
    unknown = sorted(str(k) for k in set(scope) - set(SCOPE_KINDS))
    if unknown:
        problems.append((f"unknown scope kinds {unknown}; known: {', '.join(SCOPE_KINDS)}", where))
    return {k: _string_list(scope, k, where, problems, prefix="scope.") for k in SCOPE_KINDS}


def _string_list(entry: dict, key: str, where: str, problems: list[tuple[str, str]], prefix: str = "") -> tuple:
    value = entry.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append((f"`{prefix}{key}` must be a list of strings", where))
        return ()
    return tuple(value)


def _check_score(value: Any, name: str, where: str, problems: list[tuple[str, str]]) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
        problems.append((f"`{name}` must be an integer from 1 to 5, got {value!r}", where))
        return 0
    return value
