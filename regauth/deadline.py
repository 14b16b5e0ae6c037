"""The overall deadline of one check: every request of the check shares it, so no check can outlive it.

`--timeout` bounds each connect and each read; a server that answers a byte just before each read times out (or a
chain of slow steps) could still hold a check for minutes. The engine runs each check inside `limit(seconds)`;
the HTTP layer shortens its timeouts to what is left and gives up, with kind "deadline", once nothing is left.
The deadline is per thread, because checks run concurrently in a thread pool.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

#: --deadline defaults to this many times --timeout.
DEFAULT_FACTOR = 4

_local = threading.local()


@contextmanager
def limit(seconds: float | None) -> Iterator[None]:
    """Run the body under a deadline `seconds` from now (None: no deadline). Nested limits keep the earlier end."""
    previous = getattr(_local, "state", None)
    if seconds is not None:
        end = time.monotonic() + max(seconds, 0.0)
        if previous is not None and previous[0] <= end:
            end, seconds = previous
        _local.state = (end, seconds)
    try:
        yield
    finally:
        _local.state = previous


def remaining() -> float | None:
    """Seconds left before the current thread's deadline (<= 0 when passed), or None without a deadline."""
    state = getattr(_local, "state", None)
    return None if state is None else state[0] - time.monotonic()


def expired() -> bool:
    left = remaining()
    return left is not None and left <= 0


def total() -> float | None:
    """The whole budget of the current deadline, in seconds."""
    state = getattr(_local, "state", None)
    return None if state is None else state[1]


def describe() -> str:
    budget = total()
    return f"the check's deadline of {budget:g} s passed" if budget is not None else "the check's deadline passed"
