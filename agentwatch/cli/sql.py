"""`agentwatch sql`: one read-only query over the lake's views, as a table, CSV or JSON lines."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from agentwatch.cli.option_types import CELL_WIDTH, ROW_LIMIT
from agentwatch.render import TABLE_LIMIT, left_out_note, render, render_csv, render_json

if TYPE_CHECKING:
    from agentwatch.cli.context import Context


@click.command()
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--max-width", type=CELL_WIDTH, default=60, show_default=True,
              help="Cut table cells to this many characters; 0: never cut.")
@click.option("--limit", type=ROW_LIMIT, help=f"Print at most N rows; 0: all [table: {TABLE_LIMIT}; csv, json: all].")
@click.option("--vertical", is_flag=True, help="Table: one block per row, a line per column (for wide rows).")
@click.pass_obj
def sql(obj: Context, query: str, fmt: str, max_width: int, limit: int | None, vertical: bool) -> None:
    """Run one read-only SQL query over the lake's views."""
    from agentwatch.errors import ConfigError
    from agentwatch.lake import Lake
    from agentwatch.query import column_names, count_rest, fetch_chunks, run_query

    if vertical and fmt != "table":
        raise ConfigError(f"a vertical layout is for --format table, not {fmt}", "--vertical")
    limit = (TABLE_LIMIT if fmt == "table" else 0) if limit is None else limit
    cursor = run_query(Lake(obj.lake).connect(inventory=obj.inventory), query)
    columns = column_names(cursor)
    if fmt == "table":
        rows = [row for chunk in fetch_chunks(cursor, limit) for row in chunk]
        click.echo(render(columns, rows, fmt, max_width, vertical=vertical), nl=False)
    else:  # exports stream chunk by chunk: memory stays bounded whatever the result's size
        if fmt == "csv":
            click.echo(render_csv(columns, []), nl=False)
        for chunk in fetch_chunks(cursor, limit):
            click.echo(render_csv(columns, chunk, header=False) if fmt == "csv" else render_json(columns, chunk),
                       nl=False)
    left_out = count_rest(cursor) if limit else 0
    if left_out:
        click.echo(left_out_note(left_out), err=fmt != "table")
