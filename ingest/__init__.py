"""Ingest: decode what agents emit into canonical events and land them in the lake."""
