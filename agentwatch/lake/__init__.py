"""The lake: one package owns its names and folders (`layout`), its files (`store`), the manifest
commit (`manifest`), the writer lock and atomic publish (`writer`), the reader connection and its
views (`connection`, `views`), the inventory snapshot (`inventory`) and `verify`.

Every writer (ingest, metrics, detectors, risk, escalation, analysts' state) goes through a
`Lake`; readers open their own in-memory DuckDB over the committed Parquet files, so a writer never
locks out the app or a notebook. Nothing here imports a stage (ingest, detectors, flows, app).
"""

from agentwatch.lake.core import Lake
from agentwatch.lake.writer import LakeWriter, Output

__all__ = ["Lake", "LakeWriter", "Output"]
