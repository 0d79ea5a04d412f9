"""Deadlines on connections: one watchdog thread shuts the reading side of a socket whose request ran
out of time, so a handler blocked reading it wakes with an end of stream and can still answer.

A deadline covers the bytes a client owes (request line, headers, body); it is cancelled once they
are in, so decoding and spooling what was received is never cut (a request is then answered, or,
if its client is gone, stored and deduplicated by ingest when the client retries).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time


class Deadline:
    """One socket's deadline; `fired` once it shut the socket."""

    __slots__ = ("when", "sock", "fired", "cancelled")

    def __init__(self, when: float, sock: socket.socket):
        self.when, self.sock, self.fired, self.cancelled = when, sock, False, False

    def expired(self) -> bool:
        """Whether the deadline shut the socket."""
        return self.fired


class Deadlines:
    """The watchdog of a server's connections."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="agentwatch-deadlines", daemon=True)
        self._thread.start()

    def add(self, seconds: float, sock: socket.socket) -> Deadline:
        """Shut `sock` for reading in `seconds` unless cancelled first."""
        deadline = Deadline(time.monotonic() + seconds, sock)
        with self._wake:
            heapq.heappush(self._heap, (deadline.when, next(self._order), deadline))
            self._wake.notify()
        return deadline

    @staticmethod
    def cancel(deadline: Deadline) -> None:
        """The request is in: never cut it."""
        deadline.cancelled = True

    def stop(self) -> None:
        """End the watchdog."""
        with self._wake:
            self._stopped = True
            self._wake.notify()
        self._thread.join()

    def _run(self) -> None:
        with self._wake:
            while not self._stopped:
                while self._heap and (self._heap[0][2].cancelled or self._heap[0][0] <= time.monotonic()):
                    deadline = heapq.heappop(self._heap)[2]
                    if not deadline.cancelled:
                        _fire(deadline)
                self._wake.wait(self._heap[0][0] - time.monotonic() if self._heap else None)


def _fire(deadline: Deadline) -> None:
    deadline.fired = True
    with contextlib.suppress(OSError):
        deadline.sock.shutdown(socket.SHUT_RD)
