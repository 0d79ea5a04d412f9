"""Staging for one ingest batch (`batch`): reconciled with itself and the lake (`reconcile`: identity,
tool-name and orphan-trace fixes), deduplicated, sorted and written; its SQL in `sql/`."""
