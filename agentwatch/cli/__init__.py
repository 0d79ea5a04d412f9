"""The `agentwatch` command line: the edge where settings are read and stages are called.

`main` holds the command group and the entry point (`agentwatch.cli:main`); one module per group of
commands (ingest, sql, show, lake, risk, control, detect, flows, app) and the option types that check
their range where a flag is read. `Context` (settings resolved once) is what every command gets.
"""

from agentwatch.cli.main import cli, main, run_cli

__all__ = ["cli", "main", "run_cli"]
