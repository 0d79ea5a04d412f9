"""OTLP/JSON: the envelope of both signals (`common`, `values`), traces (`otlp_json`: `traces`, `spans`)
with the GenAI and OpenInference span conventions, logs (`otlp_logs`: `logs`, `log_events`), and the
OpenInference format (`openinference`: OpenInference traces in the same envelope). `fast/` decodes whole
batches of requests in DuckDB."""
