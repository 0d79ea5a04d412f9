"""Waiting on a condition with a deadline, where a test would otherwise sleep a fixed time and hope."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(check: Callable[[], T], seconds: float, what: str, interval: float = 0.02) -> T:
    """What `check` returns once it is truthy; an AssertionError naming `what` when `seconds` pass
    first. An OSError from `check` (a server not listening yet) counts as not yet."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if result := check():
                return result
        except OSError:
            pass
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(interval)
