"""Every query the app runs, and the one write it makes (an analyst's alert state).

Reads go through the lake's hardened read-only connection (`Lake.connect`), opened once per
manifest head and shared (`st.cache_resource`). Queries take turns on it under a lock: the catalog
registers Arrow tables (inventory, manifest, empty schemas) that only that connection sees, so
cursors cannot be used, and a query is milliseconds while analysts are few. Frames are cached
(`st.cache_data`) under the same head: a new commit (a nightly run, an analyst's acknowledgement)
changes the head, and the next rerun reads fresh data.
Frames come back raw; the pages render them through `agentwatch.app.ui`, which makes text inert.
"""

from __future__ import annotations

import importlib
import threading
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import pandas as pd
import pyarrow as pa
import streamlit as st

from agentwatch.config import load_settings
from agentwatch.errors import AgentwatchError, LakeError
from agentwatch.lake import Lake, lake_location
from agentwatch.query import check_query, explain_error

SQL_DIR = Path(__file__).parent / "sql"
HUNTS_DIR = Path(__file__).parent / "hunts"
HUNT_ROW_LIMIT = 10_000
STATUSES = ("new", "acknowledged", "closed")
CLOSE_REASONS = ("false_positive", "resolved")
ALERT_STATE_SCHEMA = pa.schema([
    ("alert_key", pa.string()), ("status", pa.string()), ("by", pa.string()), ("note", pa.string()),
    ("close_reason", pa.string()), ("at", pa.timestamp("us", tz="UTC")),
    # what the alert was about, kept with the decision (the detectors suppress what analysts closed as
    # false positives by agent and rules, as `agentwatch close` records them)
    ("agent_id", pa.string()), ("rule_ids", pa.list_(pa.string())),
])


class Source(NamedTuple):
    """Where the app reads from, and the manifest head that keys every cache."""

    lake: str
    inventory: str | None
    head: str


def current_source() -> Source:
    """The lake and inventory from agentwatch's settings, with the lake's current head."""
    settings = load_settings()
    location = lake_location(settings["lake"])
    lake = str(location.resolve() if isinstance(location, Path) else location)
    inventory = str(Path(settings["inventory"]).resolve()) if settings["inventory"] else None
    return Source(lake, inventory, manifest_head(lake))


def manifest_head(lake: str) -> str:
    """The name of the last committed manifest entry ('' when nothing was committed).

    Entries are written once under increasing names and never rewritten, so the newest name is a
    cheap key for "the lake as of now" (no need to read every entry on each rerun)."""
    return Lake(lake).head()


@st.cache_resource(max_entries=4, show_spinner=False)
def _connection(src: Source) -> tuple[duckdb.DuckDBPyConnection, threading.Lock]:
    inventory = Path(src.inventory) if src.inventory and Path(src.inventory).is_file() else None
    return Lake(src.lake).connect(inventory=inventory), threading.Lock()


def query(src: Source, sql: str, params: dict[str, Any] | list | None = None) -> pa.Table | None:
    """Run one statement on the shared hardened connection; its result as Arrow (None if it has none)."""
    con, lock = _connection(src)
    with lock:
        relation = con.sql(sql, params=params or None)
        return None if relation is None else relation.to_arrow_table()


@st.cache_data(max_entries=16, show_spinner=False)
def views(src: Source) -> dict[str, tuple[str, ...]]:
    """The lake's views and their columns ({} when there is no lake)."""
    if not src.head:
        return {}
    found = query(src, "select table_name, list(column_name order by ordinal_position) as columns "
                       "from information_schema.columns where table_schema = 'main' group by table_name")
    return {row["table_name"]: tuple(row["columns"]) for row in found.to_pylist()}


def has(src: Source, view: str, *columns: str) -> bool:
    """The view exists (and has these columns)."""
    found = views(src).get(view)
    return found is not None and all(c in found for c in columns)


def count(src: Source, view: str) -> int:
    """Rows in a view (0 when it does not exist)."""
    return int(frame(src, "count_rows", view=view).iloc[0, 0]) if has(src, view) else 0


@cache
def sql_text(name: str) -> str:
    """The text of a query in app/sql."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


@st.cache_data(max_entries=256, show_spinner=False)
def frame(src: Source, name: str, **params: Any) -> pd.DataFrame:
    """The result of app/sql/<name>.sql with its parameters bound (`view` is an identifier, checked)."""
    sql = sql_text(name)
    if "view" in params:
        view = params.pop("view")
        if view not in views(src):
            raise LakeError(f"no view {view!r}", src.lake)
        sql = sql.replace("{view}", view)  # a name the catalog itself created, never user text
    return query(src, sql, params).to_pandas()


def session_row(src: Source, agent_id: str, session_id: str) -> dict[str, Any] | None:
    """The `sessions` row of one session, or None."""
    found = frame(src, "session_row", agent=agent_id, session=session_id)
    return None if found.empty else found.iloc[0].to_dict()


def session_options(src: Source, limit: int = 500) -> pd.DataFrame:
    """Sessions an analyst is likely to open: the riskiest (or busiest before `detect`) first."""
    name = "session_options_by_risk" if has(src, "sessions", "risk_score") else "session_options"
    return frame(src, name, limit=limit)


def run_hunt(src: Source, sql: str) -> tuple[pd.DataFrame, bool]:
    """A read-only query (same checks and error wording as `agentwatch sql`); at most HUNT_ROW_LIMIT rows,
    and whether it was cut."""
    check_query(sql)
    try:
        table = query(src, sql)
    except duckdb.Error as exc:
        raise explain_error(exc) from None
    if table is None:
        return pd.DataFrame(), False
    cut = table.num_rows > HUNT_ROW_LIMIT
    return table.slice(0, HUNT_ROW_LIMIT).to_pandas(), cut


@st.cache_data(ttl=60, show_spinner=False)
def rule_catalog() -> pd.DataFrame | None:
    """The detectors' rule catalog (built-in and the `rules_dirs` setting's folders), when that stage
    provides a loader (`agentwatch.detectors.detect.rules.load_rules`); broken files are skipped, as `detect` does."""
    try:
        rules = importlib.import_module("agentwatch.detectors.detect.rules")
        load, builtin = rules.load_rules, rules.BUILTIN_RULES_DIR
    except (ImportError, AttributeError):
        return None
    mine = [d for d in str(load_settings().get("rules_dirs") or "").split(":") if d]
    found = load([builtin, *mine], errors=[])
    return pd.DataFrame([{"rule_id": r.id, "title": r.title, "level": r.level, "status": getattr(r, "status", None),
                          "tags": list(r.tags), "description": r.description} for r in found])


def saved_hunts() -> dict[str, str]:
    """The example hunts shipped with the app: title (its first `-- title:` line) -> SQL."""
    hunts = {}
    for path in sorted(HUNTS_DIR.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        title = next((ln.removeprefix("-- title:").strip() for ln in text.splitlines() if ln.startswith("-- title:")),
                     path.stem)
        hunts[title] = text
    return hunts


def record_alert_state(
    lake: str, alert_key: str, status: str, by: str, note: str, close_reason: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Append an analyst's acknowledgement or closing of an alert to `alert_state` (never to events)."""
    if status not in ("acknowledged", "closed"):
        raise AgentwatchError(f"status must be acknowledged or closed, got {status!r}", "alert_state")
    if status == "closed" and close_reason not in CLOSE_REASONS:
        raise AgentwatchError(f"closing needs a reason ({', '.join(CLOSE_REASONS)}), got {close_reason!r}",
                              "alert_state")
    if not by.strip():
        raise AgentwatchError("say who you are (the analyst recording the decision)", "alert_state")
    store = Lake(lake).require()
    with store.writer() as writer:
        try:
            found = writer.connection().execute(
                "select agent_id, rule_ids from alerts where alert_key = ?", [alert_key]).fetchall()
        except duckdb.CatalogException as exc:
            raise LakeError("no alerts in this lake (run `agentwatch detect`)", lake) from exc
        if not found:
            raise LakeError(f"no alert {alert_key!r}", lake)
        (agent_id, rule_ids), *_ = found
        row = {"alert_key": [alert_key], "status": [status], "by": [by.strip()], "note": [note],
               "close_reason": [close_reason if status == "closed" else None], "at": [at or datetime.now(UTC)],
               "agent_id": [agent_id], "rule_ids": [list(rule_ids or [])]}
        writer.append("alert_state", pa.table(row, schema=ALERT_STATE_SCHEMA))
        return writer.commit("alert_state", extra={"alert_key": alert_key, "status": status, "by": by.strip()})
