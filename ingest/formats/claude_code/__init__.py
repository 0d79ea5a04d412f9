"""Claude Code transcripts (`~/.claude/projects/<project>/<session>.jsonl`)."""
