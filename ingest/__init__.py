"""Ingest: decode what agents emit into canonical events and land them in the lake.

The driver is at the top: `pipeline` (files -> one committed batch), `reader` (JSON Lines in bounded
batches), `decode` (a batch of lines -> events, quarantine rows, skip counts), `records` (one decoded
event -> a validated canonical row) and `parallel` (the same split over workers). Below it: `formats/`
(one folder per source format), `sanitize/` (secrets masked, hostile and injection text flagged),
`receiver/` (OTLP over HTTP and gRPC into a spool) and `staging/` (dedup, reconcile, write a batch).
"""
