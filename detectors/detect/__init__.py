"""Detect: rules (built-in YAML in `builtin_rules/`, compiled to SQL), per-agent anomaly models and
one explained score per session, with the alerts it raises; `evaluate.py` measures them against labels.
`run.py` is the stage's run."""
