"""The listeners of an `SfuClient`: every event goes to each of them, in order."""

from __future__ import annotations

import logging
from collections.abc import Callable

from .api import EventListener, SfuEvent

logger = logging.getLogger(__name__)


class Listeners:
    def __init__(self) -> None:
        self._listeners: list[EventListener] = []

    def add(self, listener: EventListener) -> Callable[[], None]:
        """Receive every event; returns a function that removes the listener."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def emit(self, event: SfuEvent) -> None:
        """Give `event` to every listener; a failing listener is logged, not fatal."""
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                logger.exception("event listener failed on %s", type(event).__name__)

    def clear(self) -> None:
        self._listeners.clear()
