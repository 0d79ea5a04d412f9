"""Benchmark: the Python loop that verifies approvals, and what verification adds to a metric build.

    .venv/bin/python bench/bench_verification.py [--approvals 20000] [--scale 10]

1. verify_approvals over N approval rows (valid, forged, mismatched, unknown-key, a mix like a real
   fleet's), keys from one inventory: approvals per second of the Python loop.
2. the sample fleet at --scale (agentwatch sample), ingested; build_metrics with the inventory, best
   of 3, and the time of the verification step inside it (approvals query + loop + registering).
"""

from __future__ import annotations

import argparse
import base64
import random
import tempfile
import time
from pathlib import Path
from types import MappingProxyType
from unittest import mock

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from agentwatch.detectors.metrics import models as metrics
from agentwatch.detectors.metrics import verification
from agentwatch.inventory import DIMENSIONS, SCOPE_KINDS, Agent, load_inventory
from agentwatch.lake import Lake


def approval_rows(count: int) -> tuple[list[dict], dict[str, Agent]]:
    """count approval rows for one agent: 85% valid, 5% forged, 5% mismatched, 5% unknown key."""
    rng = random.Random(7)
    key, forger = (Ed25519PrivateKey.from_private_bytes(rng.randbytes(32)) for _ in range(2))
    public = base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
    rows = []
    for n in range(count):
        args = f'{{"repo":"acme/api","branch":"fix/{n}","commits":1}}'
        summary = f"git_push(repo=acme/api, branch=fix/{n}, commits=1)"
        kind = rng.random()
        signer = forger if 0.85 <= kind < 0.9 else key
        signed = summary if kind < 0.9 or kind >= 0.95 else summary + "!"
        rows.append({"agent_id": "a", "session_id": f"s{n}", "tool_call_id": "c1", "event_id": f"e{n}",
                     "key_id": "k-unknown" if kind >= 0.95 else "k1", "summary": signed,
                     "signature": base64.b64encode(signer.sign(signed.encode())).decode(),
                     "call_tool_name": "git_push", "call_tool_args": args, "is_after_result": False})
    agent = Agent("a", "o", "p", 3, MappingProxyType(dict.fromkeys(DIMENSIONS, 3)), (),
                  MappingProxyType({k: () for k in SCOPE_KINDS}), ("git_push",), MappingProxyType({"k1": public}))
    return rows, {"a": agent}


def bench_loop(count: int) -> None:
    rows, inventory = approval_rows(count)
    started = time.perf_counter()
    table = verification.verify_approvals(rows, inventory)
    seconds = time.perf_counter() - started
    outcomes = table.group_by("approval_outcome").aggregate([("approval_outcome", "count")]).to_pylist()
    print(f"verify_approvals: {count:,} approvals in {seconds:.2f} s = {count / seconds:,.0f}/s; {outcomes}")


def bench_build(scale: float) -> None:
    from agentwatch.ingest.pipeline import ingest_paths
    from agentwatch.sample.generate import write_sample

    with tempfile.TemporaryDirectory() as tmp:
        sample, lake = Path(tmp) / "sample", Path(tmp) / "lake"
        write_sample(sample, days=14, seed=7, scale=scale, start="2026-11-09", otlp_agent=None)
        ingest_paths(lake, [sample])
        inventory = load_inventory(sample / "agents.yaml")
        spent: list[float] = []
        real = verification.register_approval_outcomes

        def timed(con, inv):
            started = time.perf_counter()
            found = real(con, inv)
            spent.append(time.perf_counter() - started)
            return found

        totals = []
        with mock.patch.object(metrics, "register_approval_outcomes", timed):
            for _ in range(3):
                con = Lake(lake).connect(hardened=False)
                started = time.perf_counter()
                metrics.build_metrics(con, inventory, publish=False)
                totals.append(time.perf_counter() - started)
        approvals = con.execute("select count(*) from events where event_type = 'approval'").fetchall()[0][0]
        events = con.execute("select count(*) from events").fetchall()[0][0]
    print(f"build_metrics on {events:,} events ({approvals:,} approvals), best of 3: {min(totals):.2f} s, "
          f"of which verification (query + loop) {min(spent):.2f} s ({min(spent) / min(totals):.0%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--approvals", type=int, default=20_000)
    parser.add_argument("--scale", type=float, default=10.0)
    args = parser.parse_args()
    bench_loop(args.approvals)
    bench_build(args.scale)


if __name__ == "__main__":
    main()
