"""`agentwatch receive`: OTLP over HTTP (`http_server`) and gRPC (`grpc_server`); each request judged
and answered (`export`) and kept as one durable file in the spool (`spool`) until ingest takes it."""
