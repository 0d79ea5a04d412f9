"""OpenAI Codex CLI logs: session rollouts and `codex exec --json` streams."""
