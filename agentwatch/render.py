"""Query results for a person (table, vertical) or a program (CSV, JSON); every value rendered inert.

Values come from the lake, so from attackers: a table never lets a control or bidi character through,
CSV keeps line breaks inside quoted fields (RFC 4180) but neutralizes spreadsheet formulas, and JSON
is ASCII-only. Nested values (lists, structs) are written as JSON everywhere, never as Python reprs.
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from agentwatch.inert import inert_lines, inert_text

TABLE_LIMIT = 100  # rows a table shows unless --limit says otherwise
# OWASP "CSV Injection": a cell starting with one of these is a formula to a spreadsheet.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def render(columns: list[str], rows: list[tuple], fmt: str, max_width: int, *, vertical: bool = False) -> str:
    """Rows as `table` (aligned columns, or one block per row if vertical), `csv` or `json` (one object a line)."""
    if fmt == "json":
        return render_json(columns, rows)
    if fmt == "csv":
        return render_csv(columns, rows)
    if vertical:
        return render_vertical(columns, rows, max_width)
    return render_table(columns, rows, max_width)


def render_json(columns: list[str], rows: list[tuple]) -> str:
    """JSON lines, ASCII-only: the same data, but no control or bidi character reaches a terminal."""
    return "".join(json.dumps(dict(zip(columns, map(plain_value, r), strict=True))) + "\n" for r in rows)


def render_csv(columns: list[str], rows: list[tuple], *, header: bool = True) -> str:
    """RFC 4180 CSV (with a header line unless told); cells inert for terminals and spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header:
        writer.writerow([csv_cell(c) for c in columns])
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return out.getvalue()


def render_table(columns: list[str], rows: list[tuple], max_width: int) -> str:
    """Aligned columns, each cell cut to max_width (0: never cut), and a row count."""
    header = [cell_text(c, max_width) for c in columns]
    cells = [[cell_text(v, max_width) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(header)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells)
    lines.append(f"({len(rows)} {'row' if len(rows) == 1 else 'rows'})")
    return "\n".join(lines) + "\n"


def render_vertical(columns: list[str], rows: list[tuple], max_width: int) -> str:
    """One block per row and a line per column, for rows too wide for a terminal."""
    names = [cell_text(c, 0) for c in columns]
    width = max(map(len, names), default=0)
    lines = []
    for number, row in enumerate(rows, 1):
        lines.append(f"-[ row {number} ]" + "-" * max(0, width - 6))
        lines.extend(f"{n.ljust(width)} | {cell_text(v, max_width)}" for n, v in zip(names, row, strict=True))
    lines.append(f"({len(rows)} {'row' if len(rows) == 1 else 'rows'})")
    return "\n".join(lines) + "\n"


def left_out_note(left_out: int) -> str:
    """The line saying how many rows a limit left out."""
    return f"{left_out:,} more {'row' if left_out == 1 else 'rows'} left out (--limit N shows N, --limit 0 all)"


def cell_text(value: Any, max_width: int) -> str:
    """One value as inert text, cut with an ellipsis beyond max_width characters (0: never)."""
    text = "NULL" if value is None else inert_text(value_text(value))
    return text if max_width == 0 or len(text) <= max_width else text[: max_width - 1] + "…"


def csv_cell(value: Any) -> Any:
    """A CSV field: numbers as they are; text inert (line breaks kept) and never a spreadsheet formula."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = inert_lines(value_text(value))
    return "'" + text if text.startswith(FORMULA_START) else text


def value_text(value: Any) -> str:
    """A value as text: strings as they are, nested values as JSON, times as ISO-8601."""
    if isinstance(value, str):
        return value
    plain = plain_value(value)
    return plain if isinstance(plain, str) else json.dumps(plain, ensure_ascii=False)


def plain_value(value: Any) -> Any:
    """A value as JSON can hold it: lists and structs kept, times as ISO-8601, bytes decoded."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): plain_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_value(v) for v in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "backslashreplace")
    return str(value)
