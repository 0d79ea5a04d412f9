"""A test approver's Ed25519 key pair and signed approval steps, so verification runs on real signatures."""

from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from agentwatch.detectors.metrics.verification import summarize_action
from tests.support.builders import Step, approval

ALICE = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
MALLORY = Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64)))
ALICE_KEYS = {"alice-2026": base64.b64encode(ALICE.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()}


def sign(summary: str, key: Ed25519PrivateKey = ALICE) -> str:
    """A base64 Ed25519 signature over the summary's UTF-8 bytes."""
    return base64.b64encode(key.sign(summary.encode("utf-8"))).decode()


def signed(call_id: str, tool: str, args: dict[str, Any] | None, *, key: Ed25519PrivateKey = ALICE,
           key_id: str = "alice-2026", summary: str | None = None, **fields: Any) -> Step:
    """Alice's approval of the call `tool(args)` (or of `summary`), signed with `key`."""
    summary = summarize_action(tool, args) if summary is None else summary
    return approval(call_id, key_id=key_id, signature=sign(summary, key), summary=summary, **fields)
