"""Typed access to the fields of agent-CLI log records (Claude Code, Codex), shared by their decoders.

Every accessor names the field's path in its `RecordError`, so a quarantined record says exactly
what was wrong (`message.content[2]: expected object, got number`). Kinds are checked, never coerced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import PurePath
from typing import Any

import orjson

from agentwatch.errors import RecordError
from agentwatch.ingest.records import SEQ_SLOTS, check_str, json_kind

MAX_ID_CHARS = 256
# Blocks per record: the block index is folded into `seq`, which has SEQ_SLOTS for it.
MAX_BLOCKS = SEQ_SLOTS
_BAD_ID = re.compile(r"[\s\x00-\x1f\x7f]")
_SUFFIXES = (".gz", ".jsonl", ".ndjson", ".json")


def get_str(obj: Mapping[str, Any], key: str, path: str = "", *, required: bool = False) -> str | None:
    """The string at `key`; None when absent or null, unless required."""
    value = check_str(obj.get(key), f"`{path}{key}`")
    if value is None and required:
        raise RecordError(f"missing `{path}{key}`")
    return value


def get_id(obj: Mapping[str, Any], key: str, path: str = "", *, required: bool = False) -> str | None:
    """An identifier: a non-empty string without whitespace or control characters, of bounded length."""
    value = get_str(obj, key, path, required=required)
    if value is None:
        return None
    if not value or len(value) > MAX_ID_CHARS or _BAD_ID.search(value):
        raise RecordError(f"`{path}{key}`: not a usable id (empty, over {MAX_ID_CHARS} chars, or with whitespace)")
    return value


def get_dict(obj: Mapping[str, Any], key: str, path: str = "", *, required: bool = False) -> dict | None:
    """The object at `key`; None when absent or null, unless required."""
    value = obj.get(key)
    if value is None:
        if required:
            raise RecordError(f"missing `{path}{key}`")
        return None
    if not isinstance(value, dict):
        raise RecordError(f"`{path}{key}`: expected object, got {json_kind(value)}")
    return value


def get_int(obj: Mapping[str, Any], key: str, path: str = "") -> int | None:
    """A whole number (a float with no fraction counts); None when absent or null."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordError(f"`{path}{key}`: expected integer, got {json_kind(value)}")
    return value


def get_blocks(value: Any, path: str) -> list[dict]:
    """A list of objects (content blocks), bounded in length."""
    if not isinstance(value, list):
        raise RecordError(f"`{path}`: expected array, got {json_kind(value)}")
    if len(value) > MAX_BLOCKS:
        raise RecordError(f"`{path}`: more than {MAX_BLOCKS} blocks")
    for i, block in enumerate(value):
        if not isinstance(block, dict):
            raise RecordError(f"`{path}[{i}]`: expected object, got {json_kind(block)}")
    return value


def block_type(block: Mapping[str, Any], path: str) -> str:
    """The `type` tag every content block carries."""
    kind = block.get("type")
    if not isinstance(kind, str):
        raise RecordError(f"`{path}.type`: expected string, got {json_kind(kind)}")
    return kind


def join_texts(value: Any, path: str) -> str | None:
    """Text of a string, or of the `text` fields of an array of blocks joined by newlines."""
    if value is None or isinstance(value, str):
        return value
    texts = [block["text"] for block in get_blocks(value, path) if isinstance(block.get("text"), str)]
    return "\n".join(texts) if texts else None


def check_structure(record: dict | list) -> None:
    """Refuse a record the lake could not store as JSON: nested past orjson's limit, holding an
    integer outside 64 bits, or a string with lone surrogates (JSON escapes can spell them)."""
    try:
        # Four levels of headroom: `attrs` holds a record's fields at most one level deeper.
        orjson.dumps([[[[record]]]])
    except orjson.JSONEncodeError as exc:
        if "Recursion" in str(exc):
            raise RecordError("record nested too deeply to store") from exc
        if "Integer" in str(exc):
            raise RecordError("record holds an integer outside the 64-bit range") from exc
        raise RecordError(f"record cannot be stored as JSON ({exc})") from exc


def as_json_text(value: Any) -> str:
    """A JSON text for `tool_args`: JSON text is kept as is, anything else is encoded."""
    if isinstance(value, str):
        try:
            orjson.loads(value)
        except orjson.JSONDecodeError:
            return orjson.dumps(value).decode()
        return value
    return orjson.dumps(value).decode()


def without(obj: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """The fields of `obj` not mapped to a column, for `attrs`."""
    return {k: v for k, v in obj.items() if k not in keys}


@lru_cache(maxsize=1024)
def file_stem(source_file: str) -> str:
    """The file name without its log suffixes (`rollout-x.jsonl.gz` -> `rollout-x`)."""
    name = PurePath(source_file).name
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def load_object(first_record: bytes) -> dict | None:
    """The first record of a file as a JSON object, or None (for sniffers)."""
    try:
        obj = orjson.loads(first_record.lstrip(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


def quoted(value: str, limit: int = 64) -> str:
    """A source value quoted for a reason, cut to `limit` characters."""
    return repr(value[:limit] + ("…" if len(value) > limit else ""))
