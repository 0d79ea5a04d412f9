"""Make decoded events safe to store: mask secrets, flag hostile text, and do the same for quarantine.

Masking uses a per-lake key (`_keys/redaction.key`, created on first use, or `AGENTWATCH_REDACTION_KEY`)
so a secret's fingerprint is stable across runs but useless outside this lake.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from agentwatch.errors import ConfigError
from agentwatch.ingest.sanitize.hostile import flag_frame
from agentwatch.ingest.sanitize.injection import injection_flags
from agentwatch.ingest.sanitize.redact import mask_bytes, mask_frame, mask_text
from agentwatch.lake import KEYS_DIR, publish
from agentwatch.schema import EVENT_SCHEMA, METRIC_POINT_SCHEMA, QUARANTINE_SCHEMA

KEY_FILE = f"{KEYS_DIR}/redaction.key"
KEY_ENV = "AGENTWATCH_REDACTION_KEY"
# Every free-text column a source controls; provenance and enums are set by ingest itself.
MASKED_COLUMNS = (
    "text", "tool_args", "attrs", "actor", "model", "tool_name", "agent_id", "session_id",
    "parent_session_id", "event_id", "tool_call_id", "trace_id", "span_id", "parent_span_id", "status",
)
FLAGGED_COLUMNS = ("text", "tool_args")
# A metric point's free text: its attributes, resource and scope say whatever the exporter put there.
MASKED_POINT_COLUMNS = ("agent_id", "session_id", "user_id", "metric_name", "unit", "description", "model",
                        "usage_type", "attributes", "resource", "scope", "detail")


INJECTION_FLAG = "injection_phrasing"
# Humans and operators address the assistant by design; the signal is for text the agent reads.
ADDRESSED_BY_DESIGN = ("user_prompt", "system_prompt")


def _injection_flag(frame: pl.DataFrame) -> pl.Series:
    """`injection_phrasing` for events whose text addresses and steers the assistant (tool results, ...)."""
    texts = frame.select(
        pl.when(pl.col("event_type").is_in(ADDRESSED_BY_DESIGN).fill_null(False)).then(None).otherwise(pl.col("text"))
    ).to_series()
    fired = injection_flags(texts)
    flag, none = pl.lit([INJECTION_FLAG]), pl.lit([], pl.List(pl.String))
    return pl.select(pl.when(fired).then(flag).otherwise(none)).to_series()


@dataclass(frozen=True)
class Sanitizer:
    """Masks secrets with one key; flags hostile text."""

    key: bytes

    @classmethod
    def for_lake(cls, lake: Path) -> Sanitizer:
        """The lake's key: from the environment, else its key file (created once, mode 0600)."""
        if os.environ.get(KEY_ENV):
            return cls(os.environ[KEY_ENV].encode())
        path = lake / KEY_FILE
        if not path.exists():
            path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_hex(32).encode())
                f.flush()
                os.fsync(f.fileno())
            publish(tmp, path)
        key = path.read_bytes().strip()
        if not key:
            raise ConfigError("the masking key file is empty; restore it or remove it with the whole lake", str(path))
        return cls(key)

    def mask_events(self, table: pa.Table) -> pa.Table:
        """Events with secrets masked (counted in `redactions`) and hostile-text flags appended."""
        if not len(table):
            return table
        frame = pl.from_arrow(table)
        frame, redactions = mask_frame(frame, MASKED_COLUMNS, self.key)
        hostile = flag_frame(frame, FLAGGED_COLUMNS)
        frame = frame.with_columns(
            (pl.col("redactions") + redactions).cast(pl.Int32).alias("redactions"),
            pl.concat_list([pl.col("flags"), hostile, _injection_flag(frame)]).alias("flags"),
        )
        return frame.to_arrow().cast(EVENT_SCHEMA)

    def mask_points(self, rows: Sequence[dict[str, Any]]) -> pa.Table:
        """Metric points (`metric_points` rows) with secrets masked, counted in `redactions`."""
        frame = pl.from_arrow(pa.Table.from_pylist(list(rows), schema=METRIC_POINT_SCHEMA))
        frame, redactions = mask_frame(frame, MASKED_POINT_COLUMNS, self.key)
        frame = frame.with_columns((pl.col("redactions") + redactions).cast(pl.Int32).alias("redactions"))
        return frame.to_arrow().cast(METRIC_POINT_SCHEMA)

    def quarantine_table(self, rows: Sequence[dict[str, Any]], source_file: str, source_format: str) -> pa.Table:
        """Quarantine rows with their raw records masked; raw stays bytes (it may not be UTF-8)."""
        out = []
        for row in rows:
            raw, count = mask_bytes(row["raw"], self.key)
            out.append({
                "source_file": source_file, "source_format": source_format,
                "source_offset": row["source_offset"], "line_no": row["line_no"],
                "reason": self.mask_reason(row["reason"]), "raw": raw,
                "raw_truncated": row.get("raw_truncated", False), "redactions": count,
            })
        names = [n for n in QUARANTINE_SCHEMA.names if n not in ("batch_id", "quarantined_at")]
        return pa.Table.from_pylist(out, schema=pa.schema([QUARANTINE_SCHEMA.field(n) for n in names]))

    def mask_path(self, path: str) -> str:
        """A file name or an error naming one, with any secret in it masked."""
        return mask_text(path, self.key)[0]

    def mask_reason(self, reason: str) -> str:
        """A reason may quote the record: mask it like the record."""
        masked, _ = mask_bytes(reason.encode(), self.key)
        return masked.decode("utf-8", errors="replace")
