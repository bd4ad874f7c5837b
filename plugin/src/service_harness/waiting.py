"""Wait for what happens on other threads or processes, with a deadline; start work together.

No sleep: a condition with a deadline, and a barrier that releases all at once."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar


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


T = TypeVar("T")


def run_together(count: int, action: Callable[[int], T], *, timeout: float = 30.0) -> list[T]:
    """Call action(0) ... action(count - 1) on `count` threads at once; their results, in order.

    Every thread waits at a barrier until all are ready, so the calls overlap
    as much as the machine allows. The first exception of any call is raised.
    """
    barrier = threading.Barrier(count, timeout=timeout)

    def released(number: int) -> T:
        barrier.wait()
        return action(number)

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(released, number) for number in range(count)]
        return [future.result(timeout=timeout) for future in futures]
