"""Names in the lake, declared once: its tables' folders and the service entries beside them."""

from __future__ import annotations

import re

from agentwatch.errors import LakeError

MANIFEST_DIR = "_manifest"
TMP_DIR = "_tmp"  # writers' staging; whatever is here when the lock is taken is a dead writer's
LOCK_FILE = "_lock"
KEYS_DIR = "_keys"
SPOOL_DIR = "_spool"
PREFECT_DIR = "_prefect"
RUN_LOCK = "_run.lock"
DECODE_DIR = "_decode"  # parts Dask workers decoded (task_runner = dask), until the batch's commit
ROUNDS_DIR = "_rounds"  # metrics rounds Dask workers built (task_runner = dask), until the metrics commit
# Top-level entries that hold no table: `verify` accounts for everything else.
SERVICE_ENTRIES = frozenset({MANIFEST_DIR, TMP_DIR, LOCK_FILE, KEYS_DIR, SPOOL_DIR, PREFECT_DIR, RUN_LOCK,
                             DECODE_DIR, ROUNDS_DIR})

EVENTS = "events"
QUARANTINE = "quarantine"
METRIC_POINTS = "metric_points"
INVENTORY = "inventory"  # the snapshot of the agent inventory last given to a run
# Tables only ingest writes, and their folders; every other table lives in a folder of its own name.
INGEST_FOLDERS = {EVENTS: "events", QUARANTINE: "_quarantine", METRIC_POINTS: "metric_points"}
# A manifest names its tables and a table name is an identifier in SQL: only these shapes are accepted.
TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Committed data files are named part-<manifest seq, 8 digits>...: a seq past the head is uncommitted.
PART_SEQ = re.compile(r"^part-(\d{8})[-.]")


def table_folder(table: str) -> str:
    """The folder (relative to the lake) holding a table's files."""
    return INGEST_FOLDERS.get(table, table)


def check_table_name(table: str, *, writer: bool = True) -> str:
    """The name, if it is one a writer may replace or append to (ingest's tables are its own)."""
    if not TABLE_NAME.match(table) or (writer and table in INGEST_FOLDERS):
        raise LakeError(f"{table!r} is not a table a writer may replace or append to", "lake")
    return table


def part_seq(key: str) -> int | None:
    """The manifest sequence number a data file was written for (None for other names)."""
    found = PART_SEQ.match(key.rsplit("/", 1)[-1])
    return int(found.group(1)) if found else None
