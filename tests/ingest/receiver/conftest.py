"""The receiver's tests share one fixture: an HTTP receiver on a free port, spooling to a fresh folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agentwatch.ingest.receiver.http_server import ReceiverServer, serve_receiver, stop_receiver


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[ReceiverServer]:
    server = serve_receiver(tmp_path / "spool", host="127.0.0.1", port=0)
    yield server
    stop_receiver(server)
    assert server.thread is not None and not server.thread.is_alive()
