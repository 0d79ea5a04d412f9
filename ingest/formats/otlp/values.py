"""OTLP/JSON values: AnyValue, int64, `*UnixNano` times, hex ids and enums, and typed attribute access.

The OTLP/JSON encoding differs from proto3's default JSON mapping (OTLP spec, "JSON Protobuf
Encoding"): traceId/spanId are hex strings, not base64; 64-bit integers and `*UnixNano` values may
arrive as strings or numbers; enums are integers (their names are accepted too). Every reader names
the JSON path of what it cannot parse; kinds are checked, never coerced.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from typing import Any

from agentwatch.errors import RecordError
from agentwatch.ingest.records import MAX_INT64, MAX_SEQ_POSITION, MIN_INT64, check_str, json_kind

MAX_ANY_DEPTH = 64  # deeper AnyValue nesting is hostile, not telemetry
MAX_NANOS = MAX_SEQ_POSITION * 1000 + 999  # seq folds the time in µs: every seq of it must fit int64
_HEX = re.compile(r"^[0-9a-fA-F]*$")
_INT = re.compile(r"^-?[0-9]+$")


def decode_attributes(items: Any, path: str) -> dict[str, Any]:
    """A KeyValue list as a dict; a repeated key keeps its last value."""
    if items is None:
        return {}
    return _decode_kvlist(items, path, path, 0)


def _decode_kvlist(items: Any, path: str, items_path: str, depth: int) -> dict[str, Any]:
    """KeyValue pairs (attributes, or a kvlistValue's values) as a dict; a repeated key keeps its last value."""
    if not isinstance(items, list):
        raise RecordError(f"{items_path}: expected array, got {json_kind(items)}")
    out: dict[str, Any] = {}
    for i, kv in enumerate(items):
        require_object(kv, f"{items_path}[{i}]")
        key = kv.get("key")
        if not isinstance(key, str):
            raise RecordError(f"{items_path}[{i}].key: expected string, got {json_kind(key)}")
        out[key] = decode_any(kv.get("value"), f"{path}[{key!r}]", depth)
    return out


def decode_any(value: Any, path: str, depth: int = 0) -> Any:
    """An OTLP AnyValue as plain JSON; bytes stay base64 text, an empty AnyValue is null."""
    if depth > MAX_ANY_DEPTH:
        raise RecordError(f"{path}: AnyValue nested deeper than {MAX_ANY_DEPTH} levels")
    if value is None:
        return None
    require_object(value, path)
    if len(value) > 1:
        raise RecordError(f"{path}: AnyValue with more than one kind: {', '.join(sorted(value))}")
    if not value:
        return None
    kind, inner = next(iter(value.items()))
    decoder = _ANY_DECODERS.get(kind)
    if decoder is None:
        return dict(value)  # a kind newer than this decoder: kept verbatim rather than lost
    return decoder(inner, f"{path}.{kind}", depth)


def _any_string(inner: Any, path: str, depth: int) -> str:
    if not isinstance(inner, str):
        raise RecordError(f"{path}: expected string, got {json_kind(inner)}")
    return inner


def _any_bool(inner: Any, path: str, depth: int) -> bool:
    if not isinstance(inner, bool):
        raise RecordError(f"{path}: expected boolean, got {json_kind(inner)}")
    return inner


def _any_int(inner: Any, path: str, depth: int) -> int:
    return int64(inner, path)


def _any_double(inner: Any, path: str, depth: int) -> float | None:
    if isinstance(inner, str) and inner in ("NaN", "Infinity", "-Infinity"):
        return None  # proto3 JSON spells non-finite doubles as strings; JSON has no such number
    if isinstance(inner, bool) or not isinstance(inner, (int, float)):
        raise RecordError(f"{path}: expected number, got {json_kind(inner)}")
    return None if isinstance(inner, float) and not math.isfinite(inner) else float(inner)


def _any_bytes(inner: Any, path: str, depth: int) -> str:
    if not isinstance(inner, str):
        raise RecordError(f"{path}: expected base64 string, got {json_kind(inner)}")
    try:
        base64.b64decode(inner, validate=True)
    except binascii.Error as exc:
        raise RecordError(f"{path}: not valid base64 ({exc})") from exc
    return inner


def _any_array(inner: Any, path: str, depth: int) -> list[Any]:
    require_object(inner, path)
    values = inner.get("values") or []
    if not isinstance(values, list):
        raise RecordError(f"{path}.values: expected array, got {json_kind(values)}")
    return [decode_any(v, f"{path}.values[{i}]", depth + 1) for i, v in enumerate(values)]


def _any_kvlist(inner: Any, path: str, depth: int) -> dict[str, Any]:
    require_object(inner, path)
    return _decode_kvlist(inner.get("values") or [], path, f"{path}.values", depth + 1)


_ANY_DECODERS = {
    "stringValue": _any_string,
    "boolValue": _any_bool,
    "intValue": _any_int,
    "doubleValue": _any_double,
    "bytesValue": _any_bytes,
    "arrayValue": _any_array,
    "kvlistValue": _any_kvlist,
}


def int64(value: Any, path: str) -> int:
    """A protobuf int64 from OTLP/JSON: a decimal string or a JSON number without fraction."""
    if isinstance(value, str) and _INT.match(value):
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        shown = repr(value[:40]) if isinstance(value, str) else json_kind(value)
        raise RecordError(f"{path}: expected integer, got {shown}")
    if not MIN_INT64 <= number <= MAX_INT64:
        raise RecordError(f"{path}: integer {number} is outside 64-bit range")
    return number


def unix_nanos(value: Any, path: str, *, required: bool) -> int:
    """A `*UnixNano` timestamp; 0 or absent means unset."""
    nanos = 0 if value is None else int64(value, path)
    if nanos < 0 or nanos > MAX_NANOS:
        raise RecordError(f"{path}: {nanos} is outside 1970..2262")
    if required and nanos == 0:
        raise RecordError(f"{path}: missing")
    return nanos


def hex_id(value: Any, path: str, nbytes: int, *, required: bool) -> str | None:
    """A trace or span id: OTLP/JSON writes ids as hex (not base64, unlike proto3's JSON mapping)."""
    if value is None or value == "":
        if required:
            raise RecordError(f"{path}: missing")
        return None
    if not isinstance(value, str):
        raise RecordError(f"{path}: expected hex string, got {json_kind(value)}")
    if len(value) != 2 * nbytes or not _HEX.match(value):
        raise RecordError(f"{path}: expected {2 * nbytes} hex digits, got {value[:48]!r}")
    if value.strip("0") == "":
        raise RecordError(f"{path}: all-zero id is invalid")
    return value.lower()


def enum_name(value: Any, names: tuple[str, ...], prefix: str, path: str) -> str:
    """An enum given as integer or name; an unknown value becomes 'unknown', never a crash."""
    if value is None:
        return names[0]
    if isinstance(value, str):
        short = value.removeprefix(prefix).lower()
        return short if short in names else "unknown"
    if isinstance(value, int) and not isinstance(value, bool):
        return names[value] if 0 <= value < len(names) else "unknown"
    raise RecordError(f"{path}: expected integer enum, got {json_kind(value)}")


def array_field(obj: dict[str, Any], key: str, path: str) -> list[Any]:
    """The array at `key` (empty when absent or null); another kind is rejected."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        where = f"{path}.{key}" if path else key
        raise RecordError(f"{where}: expected array, got {json_kind(value)}")
    return value


def require_object(value: Any, path: str) -> None:
    """Reject a value that is not a JSON object, naming its path."""
    if not isinstance(value, dict):
        raise RecordError(f"{path}: expected object, got {json_kind(value)}")


def rest_of(obj: dict[str, Any], known: set[str] | frozenset[str], prefix: str = "") -> dict[str, Any]:
    """The fields of `obj` not in `known` (kept verbatim), their names prefixed."""
    return {f"{prefix}{key}": value for key, value in obj.items() if key not in known}


def str_attr(a: dict[str, Any], key: str) -> str | None:
    """A string attribute; another kind is rejected, never coerced."""
    return check_str(a.get(key), f"attributes[{key!r}]")


def first_str(a: dict[str, Any], keys: tuple[str, ...]) -> tuple[str | None, str | None]:
    """The first non-empty string attribute among `keys`, and its key."""
    for key in keys:
        value = str_attr(a, key)
        if value:
            return key, value
    return None, None


def int_attr(a: dict[str, Any], key: str) -> int | None:
    """An integer attribute (intValue); another kind is rejected, never coerced."""
    value = a.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise RecordError(f"attributes[{key!r}]: expected integer, got {json_kind(value)}")
    return value


def service_name(resource: dict[str, Any]) -> str | None:
    """The resource's `service.name` when it is a non-empty string: the agent of last resort."""
    service = resource.get("service.name")
    return service if isinstance(service, str) and service else None
