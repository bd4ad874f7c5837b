"""Wait for things that happen on other threads or processes, with a deadline."""

import threading
from collections.abc import Callable


class Inbox:
    """A callback that keeps what it receives and lets a test wait for it.

    Pass it where a callback is expected (`event_bus.subscribe("x", inbox)`),
    then `inbox.wait_for(1)` blocks until one message arrived or the deadline passed.
    """

    def __init__(self) -> None:
        self.messages: list[str] = []
        self._arrived = threading.Condition()

    def __call__(self, message: str) -> None:
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()

    def wait_for(
        self, count: int = 1, *, where: Callable[[str], bool] | None = None, timeout: float = 5.0
    ) -> list[str]:
        """The first `count` messages (matching `where`), once they have arrived."""

        def matching() -> list[str]:
            return [m for m in self.messages if where is None or where(m)]

        with self._arrived:
            if not self._arrived.wait_for(lambda: len(matching()) >= count, timeout=timeout):
                raise TimeoutError(
                    f"expected {count} message(s) within {timeout} s, got {len(matching())}: "
                    f"{self.messages!r}"
                )
            return matching()[:count]
