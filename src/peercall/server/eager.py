"""Running a coroutine at once, and as a task only if it has to wait.

Most signaling messages are handled without waiting for anything (a relay is a
lookup and a write), yet handling each in a task of its own cost a task's creation
and a turn of the event loop per message. Python 3.12 has eager tasks for this
(`asyncio.eager_task_factory`); peercall runs on 3.11 too, so this does the same
for the one place that needs it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Generator
from typing import Any

logger = logging.getLogger("peercall.signaling")


def run_eagerly(coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Runs `coroutine` up to its first wait. None if it finished (an exception is
    logged, as a task's would be); otherwise the task that goes on with it."""
    try:
        waiting_for = coroutine.send(None)
    except StopIteration:
        return None
    except Exception:
        logger.exception("failed to handle a message")
        return None
    return asyncio.get_running_loop().create_task(_GoingOn(coroutine, waiting_for))


class _GoingOn(Coroutine[Any, Any, None]):
    """`coroutine`, which already yielded `waiting_for` (the future it waits on, or
    None) to whoever ran it first, as a coroutine a task can run: the task's first
    step gets `waiting_for` back and waits on it in the coroutine's place; after
    that everything goes straight to the coroutine. A task cancelled before its
    first step throws into the coroutine where it waits, as it would have."""

    def __init__(self, coroutine: Coroutine[Any, Any, None], waiting_for: Any) -> None:
        self._coroutine = coroutine
        self._waiting_for: Any = waiting_for
        self._handed_over = False

    def send(self, value: Any) -> Any:
        if not self._handed_over:
            self._handed_over = True
            return self._waiting_for
        return self._coroutine.send(value)

    def throw(self, error: Any, value: Any = None, traceback: Any = None) -> Any:
        self._handed_over = True
        if value is None and traceback is None:
            return self._coroutine.throw(error)
        return self._coroutine.throw(error, value, traceback)  # the older form

    def close(self) -> None:
        self._coroutine.close()

    def __await__(self) -> Generator[Any, None, None]:
        return self  # type: ignore[return-value]

    def __iter__(self) -> _GoingOn:
        return self

    def __next__(self) -> Any:
        return self.send(None)
