"""Detectors: the DuckDB catalog, metrics, rules, anomaly models and the risk model."""
