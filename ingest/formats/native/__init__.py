"""The native format: JSON Lines whose fields are the canonical event's own names."""
