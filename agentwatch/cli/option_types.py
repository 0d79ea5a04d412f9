"""Option types that check their range where the flag is read and say what is allowed."""

from __future__ import annotations

from datetime import date
from typing import Any

import click


class Bounded(click.ParamType):
    """A number (int or float) within bounds; `allowed` says in words what may be given."""

    def __init__(self, kind: type, allowed: str, minimum: float, maximum: float | None = None,
                 *, exclusive: bool = False, also: tuple[float, ...] = ()):
        self.kind, self.allowed = kind, allowed
        self.minimum, self.maximum, self.exclusive, self.also = minimum, maximum, exclusive, also
        self.name = "integer" if kind is int else "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The value as a number, or a usage error naming the allowed range."""
        try:
            number = self.kind(value)
        except (TypeError, ValueError):
            self.fail(f"must be {self.allowed}, got {value!r}", param, ctx)
        if number not in self.also and not self._within(number):
            self.fail(f"must be {self.allowed}, got {value}", param, ctx)
        return number

    def _within(self, number: float) -> bool:
        above = number > self.minimum if self.exclusive else number >= self.minimum
        return above and (self.maximum is None or number <= self.maximum)


class IsoDate(click.ParamType):
    """A day as YYYY-MM-DD, kept as that text."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The same text, once it is known to be a real day."""
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            self.fail(f"must be a day as YYYY-MM-DD, got {value!r}", param, ctx)


POSITIVE = Bounded(int, "a whole number of 1 or more", 1)
ROW_LIMIT = Bounded(int, "0 (every row) or a whole number of rows", 0)
CELL_WIDTH = Bounded(int, "0 (never cut) or a width of 4 or more", 4, also=(0,))
PORT = Bounded(int, "a port from 1 to 65535", 1, 65535)
PORT_OR_OFF = Bounded(int, "a port from 1 to 65535, or 0 (off)", 0, 65535)
SCALE = Bounded(float, "a number above 0", 0, exclusive=True)
DAY = IsoDate()


def usage_where(exc: click.UsageError) -> str:
    """The flag, argument or command a usage error is about."""
    param = getattr(exc, "param", None)
    if param is not None:
        if isinstance(param, click.Option):
            return max(param.opts, key=len)
        return (param.name or "argument").upper()
    return exc.ctx.command_path if exc.ctx else "agentwatch"


def usage_what(exc: click.UsageError) -> str:
    """A usage error's message without click's framing."""
    if isinstance(exc, click.MissingParameter):
        kind = exc.param.param_type_name if exc.param else "value"
        return f"required {kind} missing"
    if isinstance(exc, click.BadParameter):
        return exc.message.rstrip(".")
    return exc.format_message().rstrip(".")
