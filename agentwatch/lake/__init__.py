"""The lake: one package owns its names and folders (`layout`), its files (`store`), the manifest
commit (`manifest`), the writer lock and atomic publish (`writer`), the reader connection and its
views (`connection`, `views`), the inventory snapshot (`inventory`) and `verify`.

Every writer (ingest, metrics, detectors, risk, escalation, analysts' state) goes through a
`Lake`; readers open their own in-memory DuckDB over the committed Parquet files, so a writer never
locks out the app or a notebook. Nothing here imports a stage (ingest, detectors, flows, app), and
nothing outside this package imports its modules: the names below are the whole of its surface
(`tests/test_architecture.py` holds both).
"""

from agentwatch.lake.connection import check_read_only, connect_duckdb
from agentwatch.lake.core import Lake
from agentwatch.lake.inventory import agents_not_in, load_snapshot, remember_inventory, use_inventory
from agentwatch.lake.layout import (
    DECODE_DIR,
    EVENTS,
    KEYS_DIR,
    METRIC_POINTS,
    PREFECT_DIR,
    QUARANTINE,
    ROUNDS_DIR,
    RUN_LOCK,
    SPOOL_DIR,
    table_folder,
)
from agentwatch.lake.manifest import ingested_hashes, live_files
from agentwatch.lake.sql import quote_literal, read_parquet, sql_list
from agentwatch.lake.store import fsync_dir, lake_location, local_folder, publish, sha256_file
from agentwatch.lake.verify import verify_lake
from agentwatch.lake.writer import LakeWriter, Output

__all__ = [
    # the lake, its writer and what a writer stages
    "Lake", "LakeWriter", "Output",
    # where it lives: a location (folder or s3://), the local folder of a lake or spool, durable files
    "lake_location", "local_folder", "publish", "fsync_dir", "sha256_file",
    # its names: tables and the service folders beside them
    "EVENTS", "QUARANTINE", "METRIC_POINTS", "table_folder", "KEYS_DIR", "SPOOL_DIR", "PREFECT_DIR", "RUN_LOCK",
    "DECODE_DIR", "ROUNDS_DIR",
    # the manifest: what is committed, and which input files were ingested
    "live_files", "ingested_hashes",
    # the inventory snapshot
    "use_inventory", "load_snapshot", "remember_inventory", "agents_not_in",
    # SQL over its files, and DuckDB connections as the lake opens them
    "read_parquet", "sql_list", "quote_literal", "connect_duckdb", "check_read_only",
    # tamper evidence
    "verify_lake",
]
