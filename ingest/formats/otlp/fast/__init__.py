"""Bulk decoders of OTLP/JSON traces and logs in DuckDB (their SQL in `sql/`), which give the events
the per-record decoders give, and the split of spooled requests across files."""
