"""The inventory, remembered: the file given to a run is snapshotted into the lake (table
`inventory`, one row per agent, versioned through the manifest), and a later run without one uses
the last snapshot, so metrics never silently lose the declared scopes.

`use_inventory` is the one way every command loads the inventory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from agentwatch.inventory import DIMENSIONS, SCOPE_KINDS, Agent, load_inventory, parse_inventory
from agentwatch.lake.layout import INVENTORY
from agentwatch.lake.manifest import live_files

if TYPE_CHECKING:
    from agentwatch.lake.core import Lake

KIND = "inventory"  # the manifest entry kind of a snapshot


def snapshot_schema() -> pa.Schema:
    """Columns of the `inventory` table (and of the `agents` view's declared part)."""
    strings = pa.list_(pa.string())
    return pa.schema([
        ("agent_id", pa.string()), ("owner", pa.string()), ("purpose", pa.string()), ("business_value", pa.int32()),
        *[(f"declared_{d}", pa.int32()) for d in DIMENSIONS],
        ("allowed_tools", strings), ("approval_required", strings),
        *[(f"scope_{k}", strings) for k in SCOPE_KINDS],
        ("approval_keys", pa.list_(pa.struct([("key_id", pa.string()), ("public_key", pa.string())]))),
        ("controls", strings), ("entry_json", pa.string()),
    ])


def inventory_rows(agents: Mapping[str, Agent]) -> pa.Table:
    """One row per agent: what its owner declared, its scopes and approval keys, and the entry as JSON."""
    rows = [{
        "agent_id": a.agent_id, "owner": a.owner, "purpose": a.purpose, "business_value": a.business_value,
        **{f"declared_{d}": a.declared[d] for d in DIMENSIONS},
        "allowed_tools": list(a.allowed_tools), "approval_required": list(a.approval_required),
        **{f"scope_{k}": list(a.scope.get(k, ())) for k in SCOPE_KINDS},
        "approval_keys": [{"key_id": k, "public_key": v} for k, v in sorted(a.approval_keys.items())],
        "controls": list(a.controls), "entry_json": orjson.dumps(_entry(a), option=orjson.OPT_SORT_KEYS).decode(),
    } for _, a in sorted(agents.items())]
    return pa.Table.from_pylist(rows, schema=snapshot_schema())


def inventory_hash(agents: Mapping[str, Agent]) -> str:
    """sha256 of the inventory's content (what decides whether a new snapshot is needed)."""
    body = orjson.dumps([_entry(a) for _, a in sorted(agents.items())], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()


def load_snapshot(lake: Lake) -> dict[str, Agent]:
    """The inventory last snapshotted into the lake ({} when none was)."""
    keys = [k for k, out in live_files(lake.entries()).items() if out["table"] == INVENTORY]
    docs = [orjson.loads(j) for k in keys for j in pq.read_table(lake.store.uri(k), columns=["entry_json"])
            .column("entry_json").to_pylist()]
    return parse_inventory({"agents": docs}, f"{lake.location}: inventory snapshot") if keys else {}


def remember_inventory(lake: Lake, agents: Mapping[str, Agent], source: str) -> dict[str, Any] | None:
    """Snapshot the inventory unless the last snapshot holds the same; returns the new entry, if any."""
    digest = inventory_hash(agents)
    with lake.writer() as writer:
        last = next((e for e in reversed(writer.entries) if e.get("kind") == KIND), None)
        if last is not None and last.get("inventory_sha256") == digest:
            return None
        writer.replace(INVENTORY, inventory_rows(agents))
        return writer.commit(KIND, extra={"inventory_sha256": digest, "source": source, "agents": len(agents)})


def use_inventory(lake: Lake, path: Path | None, *, remember: bool = True) -> dict[str, Agent]:
    """The inventory a command works with: the file given (snapshotted into an existing lake when it
    differs from the last snapshot), else the lake's last snapshot, else none."""
    if path is None:
        return load_snapshot(lake) if lake.exists() else {}
    agents = load_inventory(path)
    if remember and lake.exists():
        remember_inventory(lake, agents, str(path))
    return agents


def agents_not_in(con: duckdb.DuckDBPyConnection, agents: Mapping[str, Agent]) -> tuple[str, ...]:
    """Agents the lake's events name (on a connection with its views) that the inventory does not declare."""
    seen = con.execute("select distinct agent_id from events where agent_id is not null order by 1").fetchall()
    return tuple(agent_id for (agent_id,) in seen if agent_id not in agents)


def _entry(agent: Agent) -> dict[str, Any]:
    """The agent as an inventory entry (what `parse_inventory` reads back)."""
    return {
        "agent_id": agent.agent_id, "owner": agent.owner, "purpose": agent.purpose,
        "business_value": agent.business_value, "declared": dict(agent.declared),
        "allowed_tools": list(agent.allowed_tools), "scope": {k: list(v) for k, v in agent.scope.items()},
        "approval_required": list(agent.approval_required), "approval_keys": dict(agent.approval_keys),
        "controls": list(agent.controls),
    }
