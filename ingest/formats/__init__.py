"""One decoder module per source format, found through `REGISTRY`."""
