"""Escalation test parts: alerts written to a lake per the COMMON.md contract, and a real HTTP
receiver on 127.0.0.1 that records every POST and answers from a script (e.g. 500 first, then 202)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from agentwatch.lake import Lake

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
ALERT_SCHEMA = pa.schema([
    ("alert_key", pa.string()), ("agent_id", pa.string()), ("session_id", pa.string()), ("level", pa.string()),
    ("title", pa.string()), ("rule_ids", pa.list_(pa.string())), ("risk_score", pa.float64()),
    ("first_seen_at", pa.timestamp("us", tz="UTC")), ("last_seen_at", pa.timestamp("us", tz="UTC")),
])


def alert(key: str, *, agent_id: str = "cicd-assistant", level: str = "critical",
          rule_ids: tuple[str, ...] = ("forged-approval",), title: str = "Approval signature does not verify",
          **fields: Any) -> dict[str, Any]:
    """One alert row with the contract's columns."""
    return {"alert_key": key, "agent_id": agent_id, "session_id": f"s-{key}", "level": level, "title": title,
            "rule_ids": list(rule_ids), "risk_score": 0.9, "first_seen_at": NOW, "last_seen_at": NOW, **fields}


def write_alerts(lake: Path, *alerts: dict[str, Any], states: list[dict[str, Any]] = ()) -> None:
    """Replace the lake's `alerts` (as `detect` would) and append analyst `alert_state` rows."""
    with Lake(lake).writer() as writer:
        writer.replace("alerts", pa.Table.from_pylist(list(alerts), schema=ALERT_SCHEMA))
        if states:
            writer.append("alert_state", pa.Table.from_pylist(list(states)))
        writer.commit("detect")


@dataclass
class Receiver:
    """What the server received and what it will answer next."""

    url: str
    statuses: list[int] = field(default_factory=list)  # answers to give, in order; then 202
    posts: list[dict[str, Any]] = field(default_factory=list)
    on_post: Any = None  # called with each recorded post, before answering

    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies received, in order."""
        return [orjson.loads(p["body"]) for p in self.posts]


@contextmanager
def http_receiver(*statuses: int) -> Iterator[Receiver]:
    """A ThreadingHTTPServer on 127.0.0.1 (a free port) for the block; stopped when it ends."""
    state = Receiver(url="", statuses=list(statuses))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                post = {"path": self.path, "headers": dict(self.headers), "body": body}
                state.posts.append(post)
                status = state.statuses.pop(0) if state.statuses else 202
            if state.on_post:
                state.on_post(post)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"status":"success"}')

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
