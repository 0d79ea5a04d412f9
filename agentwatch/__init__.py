"""agentwatch: insider-threat analytics for autonomous AI agents."""

__version__ = "0.1.0"
