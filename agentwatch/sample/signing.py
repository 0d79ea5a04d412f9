"""Approval keys for the sample fleet: Ed25519, derived from the seed, so runs are reproducible.

Signatures are deterministic (RFC 8032), so the same seed signs the same bytes. Besides honest
signatures the keyring makes the two bad kinds the sample needs: `forged` (signed by a key that is not
the approver's) and `replayed` (the approver's real signature of an earlier, different summary).
"""

from __future__ import annotations

import base64
import random

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

FALLBACK_SUMMARY = "run_tests(repo=acme/payments-api, path=tests/)"


def derive_key(seed: int, key_id: str) -> Ed25519PrivateKey:
    """The private key for `key_id` under `seed`: 32 bytes from a seeded generator."""
    raw = random.Random(f"{seed}:approval-key:{key_id}").randbytes(32)
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_b64(key: Ed25519PrivateKey) -> str:
    """The raw 32-byte public key, base64."""
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def verify_b64(public_b64: str, summary: str, signature_b64: str) -> bool:
    """Does the signature verify over the summary's UTF-8 bytes with this public key?"""
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64))
        key.verify(base64.b64decode(signature_b64), summary.encode())
    except (InvalidSignature, ValueError):
        return False
    return True


class Keyring:
    """The approvers' private keys, and the attacker's, for one generated fleet."""

    def __init__(self, seed: int, key_ids: list[str]):
        self.keys = {key_id: derive_key(seed, key_id) for key_id in key_ids}
        self.forger = derive_key(seed, "unregistered")
        self.last_summary: dict[str, str] = {}

    def public_keys(self, key_ids: list[str]) -> dict[str, str]:
        """key_id -> base64 public key, for the inventory."""
        return {key_id: public_key_b64(self.keys[key_id]) for key_id in key_ids}

    def sign(self, key_id: str, summary: str, mode: str = "valid") -> str:
        """A base64 signature over `summary`: honest, forged, or replayed from an earlier approval."""
        if mode == "forged":
            return _b64(self.forger.sign(summary.encode()))
        if mode == "replayed":
            earlier = self.last_summary.get(key_id, FALLBACK_SUMMARY)
            earlier = FALLBACK_SUMMARY if earlier == summary else earlier
            return _b64(self.keys[key_id].sign(earlier.encode()))
        if mode != "valid":
            raise ValueError(f"unknown approval mode {mode!r}")
        self.last_summary[key_id] = summary
        return _b64(self.keys[key_id].sign(summary.encode()))


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
