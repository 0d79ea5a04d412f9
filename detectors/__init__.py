"""Detectors: the nightly stages after ingest, each a folder with its Python and its `sql/`, in order
metrics <- detect <- risk <- escalate (a later stage may import an earlier one, never the reverse)."""
