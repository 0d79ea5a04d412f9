"""OTLP metrics: one `ExportMetricsServiceRequest` per line (resourceMetrics -> scopeMetrics -> metrics ->
data points), as `agentwatch receive` spools `POST /v1/metrics` and gRPC, and as a Collector's file
exporter writes them.

Agents export their usage counters this way (Claude Code with `OTEL_METRICS_EXPORTER=otlp`:
`claude_code.token.usage`, `cost.usage`, `lines_of_code.count`, `commit.count`, `pull_request.count`,
`session.count`, `active_time.total`, `code_edit_tool.decision`; every point carries `session.id`,
`user.account_uuid`, ...). A data point carries no event: each becomes a row of the `metric_points`
table (its contract: `agentwatch.schema.METRIC_POINT_CONTRACT`), never an event.

- point_id = sha256 of the point's series (resource, scope, metric name and type, attributes) and times
  (start, time): the same point exported twice (a retried batch) deduplicates; a cumulative counter
  exported again later is a new point (a new time).
- agent_id: `gen_ai.agent.id`/`gen_ai.agent.name` of the point or resource, else `claude-code`/`codex`
  for metrics named `claude_code.*`/`codex.*`, else the resource's `service.name` (as for their logs).
- session_id: `session.id`, `conversation.id` or `gen_ai.conversation.id` of the point, else of the
  resource, else null (a fleet-wide counter). user_id: `user.account_uuid`, else `user.id`.
- value: a number point's `asDouble`/`asInt`; a histogram's or summary's `sum` (with `count`, `min`,
  `max`); what else the type carries (buckets, quantiles, exemplars, flags) goes in `detail`.

A malformed metric or point quarantines its whole request (the record of the file), its path in the
reason; `decode_metric_items` judges metric by metric, for the receiver's partial success.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from agentwatch.errors import RecordError
from agentwatch.ingest.formats import Format, SkipRecord
from agentwatch.ingest.formats.otlp.common import Envelope, RawItem, iter_raw_items, load_envelope
from agentwatch.ingest.formats.otlp.log_events import AGENT_KEYS, FAMILIES, SESSION_KEYS
from agentwatch.ingest.formats.otlp.values import (
    array_field,
    decode_attributes,
    first_str,
    require_object,
    rest_of,
    service_name,
    unix_nanos,
)
from agentwatch.ingest.records import Location, check_str, json_kind, time_of_nanos

METRICS = Envelope("metrics", "resourceMetrics", "scopeMetrics", "metrics")
TYPES = {"gauge": "gauge", "sum": "sum", "histogram": "histogram",
         "exponentialHistogram": "exponential_histogram", "summary": "summary"}
TEMPORALITIES = {1: "delta", 2: "cumulative", "AGGREGATION_TEMPORALITY_DELTA": "delta",
                 "AGGREGATION_TEMPORALITY_CUMULATIVE": "cumulative"}
USER_KEYS = ("user.account_uuid", "user.id")
MODEL_KEYS = ("model", "gen_ai.request.model", "gen_ai.response.model")
# Point fields read into columns; every other one is kept in `detail`.
POINT_FIELDS = frozenset({"attributes", "startTimeUnixNano", "timeUnixNano", "asDouble", "asInt", "count", "sum",
                          "min", "max"})


def sniff_otlp_metrics(first_record: bytes) -> bool:
    """An OTLP metrics export request."""
    return load_envelope(first_record, METRICS) is not None


def decode_otlp_metrics(record: Any, where: Location) -> list[Any]:
    """Metric files carry no events: ingest reads them with `decode_metric_points`."""
    raise SkipRecord("metric data points (stored in metric_points)")


def decode_metric_points(record: Any) -> list[dict[str, Any]]:
    """Every data point of one request as a `metric_points` row (provenance and masking aside); the
    first malformed metric fails the record."""
    rows: list[dict[str, Any]] = []
    for _, result in decode_metric_items(record):
        if isinstance(result, RecordError):
            raise result
        rows.extend(result)
    return rows


def decode_metric_items(record: Any) -> list[tuple[str, list[dict[str, Any]] | RecordError]]:
    """Each metric's rows, or the error that rejects that metric alone, keyed by the metric's path."""
    results: list[tuple[str, list[dict[str, Any]] | RecordError]] = []
    for raw in iter_raw_items(record, METRICS):
        try:
            results.append((raw.path, _metric_rows(raw)))
        except RecordError as exc:
            results.append((raw.path, exc))
    return results


def count_points(metric: Any) -> int:
    """The data points of one (raw) metric: what partial success counts as rejected."""
    if not isinstance(metric, dict):
        return 1
    for kind in TYPES:
        body = metric.get(kind)
        if isinstance(body, dict) and isinstance(body.get("dataPoints"), list):
            return max(len(body["dataPoints"]), 1)
    return 1


def _metric_rows(raw: RawItem) -> list[dict[str, Any]]:
    path, metric = raw.path, raw.data
    require_object(metric, path)
    name = check_str(metric.get("name"), f"{path}.name")
    if not name:
        raise RecordError(f"{path}.name: a metric needs a name")
    kinds = [kind for kind in TYPES if kind in metric]
    if len(kinds) != 1:
        raise RecordError(f"{path}: expected one of {', '.join(TYPES)}, got {', '.join(kinds) or 'none'}")
    body = metric[kinds[0]]
    require_object(body, f"{path}.{kinds[0]}")
    series = _series(raw, name, TYPES[kinds[0]], body, f"{path}.{kinds[0]}")
    points = array_field(body, "dataPoints", f"{path}.{kinds[0]}")
    return [_point_row(series, point, f"{path}.{kinds[0]}.dataPoints[{i}]", raw) for i, point in enumerate(points)]


def _series(raw: RawItem, name: str, metric_type: str, body: dict[str, Any], path: str) -> dict[str, Any]:
    temporality = body.get("aggregationTemporality")
    if temporality not in (None, 0, "AGGREGATION_TEMPORALITY_UNSPECIFIED") and temporality not in TEMPORALITIES:
        raise RecordError(f"{path}.aggregationTemporality: unknown value {temporality!r}")
    monotonic = body.get("isMonotonic")
    if monotonic is not None and not isinstance(monotonic, bool):
        raise RecordError(f"{path}.isMonotonic: expected boolean, got {json_kind(monotonic)}")
    metric = raw.data
    return {
        "metric_name": name, "metric_type": metric_type,
        "unit": check_str(metric.get("unit"), f"{raw.path}.unit") or None,
        "description": check_str(metric.get("description"), f"{raw.path}.description") or None,
        "temporality": TEMPORALITIES.get(temporality), "is_monotonic": monotonic,
        "metric_extra": rest_of(metric, {"name", "unit", "description", *TYPES}) | rest_of(
            body, {"dataPoints", "aggregationTemporality", "isMonotonic"}),
    }


def _point_row(series: dict[str, Any], point: Any, path: str, raw: RawItem) -> dict[str, Any]:
    require_object(point, path)
    attributes = decode_attributes(point.get("attributes"), f"{path}.attributes")
    time_ns = unix_nanos(point.get("timeUnixNano"), f"{path}.timeUnixNano", required=True)
    start_ns = unix_nanos(point.get("startTimeUnixNano"), f"{path}.startTimeUnixNano", required=False)
    value = _number(point, ("asDouble", "asInt"), path) if series["metric_type"] in ("gauge", "sum") \
        else _number(point, ("sum",), path)
    detail = rest_of(point, POINT_FIELDS) | {f"metric.{k}": v for k, v in series["metric_extra"].items()}
    try:
        identity = {"agent_id": _agent(attributes, raw.resource, series["metric_name"]),
                    "session_id": _first(attributes, raw.resource, SESSION_KEYS),
                    "user_id": _first(attributes, raw.resource, USER_KEYS),
                    "model": _first(attributes, {}, MODEL_KEYS)}
    except RecordError as exc:
        raise RecordError(f"{path}.{exc.message}") from exc
    key = [raw.resource, raw.scope, series["metric_name"], series["metric_type"], attributes, start_ns, time_ns]
    return {
        "point_id": hashlib.sha256(orjson.dumps(key, option=orjson.OPT_SORT_KEYS)).hexdigest(),
        "ts": time_of_nanos(time_ns), "start_ts": time_of_nanos(start_ns) if start_ns else None, **identity,
        **{k: v for k, v in series.items() if k != "metric_extra"},
        "value": value, "count": _count(point, path), "min": _number(point, ("min",), path),
        "max": _number(point, ("max",), path),
        "usage_type": _text(attributes.get("type")),
        "attributes": _json(attributes), "resource": _json(raw.resource), "scope": _json(raw.scope),
        "detail": _json(detail),
    }


def _agent(attributes: dict[str, Any], resource: dict[str, Any], name: str) -> str:
    family = FAMILIES.get(name.split(".", 1)[0]) if "." in name else None
    agent = _first(attributes, resource, AGENT_KEYS) or family or service_name(resource)
    if agent is None:
        raise RecordError("attributes: no agent identity (gen_ai.agent.*, a known agent, resource service.name)")
    return agent


def _first(attributes: dict[str, Any], resource: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    return first_str(attributes, keys)[1] or first_str(resource, keys)[1] or None


def _number(point: dict[str, Any], keys: tuple[str, ...], path: str) -> float | None:
    for key in keys:
        value = point.get(key)
        if value is None:
            continue
        if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
            return None
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return float(int(value))
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RecordError(f"{path}.{key}: expected number, got {json_kind(value)}")
        return float(value)
    return None


def _count(point: dict[str, Any], path: str) -> int | None:
    value = point.get("count")
    if value is None:
        return None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise RecordError(f"{path}.count: expected a count, got {json_kind(value)}")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


FORMAT = Format(name="otlp_metrics", sniff=sniff_otlp_metrics, decode=decode_otlp_metrics)
