"""Prefect flows that chain the stages: nightly batch and the frequent guard run."""
