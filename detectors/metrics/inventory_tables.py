"""The agent inventory as DuckDB tables, so the SQL models can join what each agent declared.

Tables (replaced on every call):
- `inventory_agents(agent_id)`: the agents the inventory knows (scope checks apply only to them);
- `agent_scope(agent_id, kind, pattern, pattern_regex)`: one row per declared scope glob; `kind` is
  the entity kind it constrains (`path`, `host`, ... see `entities.SCOPE_KIND_OF_ENTITY`);
- `agent_allowed_tools(agent_id, tool_name)`;
- `agent_approval_required(agent_id, tool_name)`.

Globs follow the shell / `.gitignore` reading: `*` and `?` stay within one `/`-separated segment,
`**` crosses segments, `[abc]` is a class. DuckDB's own `GLOB` lets `*` cross `/`, which would make
`/workspace/*` allow `/workspace/a/b/secret`, so patterns are turned into anchored RE2 regexes here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import duckdb
import pyarrow as pa

from agentwatch.detectors.metrics.entities import SCOPE_KIND_OF_ENTITY
from agentwatch.inventory import Agent

ENTITY_KIND_OF_SCOPE = {scope: entity for entity, scope in SCOPE_KIND_OF_ENTITY.items()}
# Entity values of these kinds are lowercased when extracted, so their patterns are too.
CASE_INSENSITIVE_KINDS = ("host", "email", "repo")
_GLOB_TOKEN = re.compile(r"\*\*/?|\*|\?|\[[^\]/]*\]|[^*?\[]+|\[")
_RE2_SPECIAL = re.compile(r"[.^$*+?()\[\]{}|\\]")


def glob_to_regex(pattern: str) -> str:
    """An anchored RE2 regex matching what the glob `pattern` matches."""
    parts = []
    for token in _GLOB_TOKEN.findall(pattern):
        if token.startswith("**"):
            parts.append("(?:.*/)?" if token.endswith("/") else ".*")
        elif token == "*":
            parts.append("[^/]*")
        elif token == "?":
            parts.append("[^/]")
        elif token.startswith("[") and len(token) > 2 and token.endswith("]"):
            parts.append(_glob_class(token))
        else:
            parts.append(_RE2_SPECIAL.sub(r"\\\g<0>", token))
    return "^" + "".join(parts) + "$"


def _glob_class(token: str) -> str:
    body = token[1:-1]
    if body.startswith("!"):
        body = "^" + body[1:]
    return "[" + body.replace("\\", "\\\\") + "]"


def register_inventory_tables(con: duckdb.DuckDBPyConnection, inventory: Mapping[str, Agent]) -> None:
    """Create (or replace) the inventory tables the metrics join."""
    agents = sorted(inventory.values(), key=lambda a: a.agent_id)
    scope = [
        (a.agent_id, ENTITY_KIND_OF_SCOPE[kind], pattern, _scope_regex(ENTITY_KIND_OF_SCOPE[kind], pattern))
        for a in agents for kind, patterns in sorted(a.scope.items()) for pattern in patterns
    ]
    _replace(con, "inventory_agents", {"agent_id": [a.agent_id for a in agents]})
    _replace(con, "agent_scope", _columns(("agent_id", "kind", "pattern", "pattern_regex"), scope))
    _replace(con, "agent_allowed_tools", _columns(
        ("agent_id", "tool_name"), [(a.agent_id, t) for a in agents for t in a.allowed_tools]))
    _replace(con, "agent_approval_required", _columns(
        ("agent_id", "tool_name"), [(a.agent_id, t) for a in agents for t in a.approval_required]))


def _scope_regex(kind: str, pattern: str) -> str:
    return glob_to_regex(pattern.lower() if kind in CASE_INSENSITIVE_KINDS else pattern)


def _columns(names: tuple[str, ...], rows: list[tuple]) -> dict[str, list]:
    return {name: [row[i] for row in rows] for i, name in enumerate(names)}


def _replace(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, list]) -> None:
    table = pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})
    con.register("_inventory_arrow", table)
    try:
        con.execute(f"create or replace table {name} as select * from _inventory_arrow")
    finally:
        con.unregister("_inventory_arrow")
