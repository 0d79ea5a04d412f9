"""A deterministic sample fleet: six agents, their inventory, weeks of sessions and scripted incidents.

`generate.write_sample(out_dir, days=14, seed=7, scale=1.0, start="2026-11-09", gzip=True)` writes
`agents.yaml`, `labels.csv` and `native/<agent>/<date>.jsonl.gz` and returns a summary. This package
imports nothing itself, so its modules (the scenarios import the agent modules) never import back
through it.
"""
