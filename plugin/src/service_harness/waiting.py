"""Wait for what happens on other threads or processes, with a deadline; start work together.

No sleep: a condition with a deadline, and a barrier that releases all at once. Each has
an asyncio counterpart for async tests: AsyncInbox and run_together_async.
"""

import asyncio
import threading
from collections.abc import Awaitable, Callable
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
                raise TimeoutError(_missing(count, timeout, len(matching()), self.messages))
            return matching()[:count]


class AsyncInbox:
    """Inbox for asyncio: an async callback that keeps what it receives.

    Pass it where an async callback is expected (`await event_bus.subscribe("x", inbox)`),
    then `await inbox.wait_for(1)` returns once one message arrived, or fails at the deadline.
    It belongs to the event loop it is first used on.
    """

    def __init__(self) -> None:
        self.messages: list[str] = []
        self._arrived = asyncio.Condition()

    async def __call__(self, message: str) -> None:
        async with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()

    async def wait_for(
        self, count: int = 1, *, where: Callable[[str], bool] | None = None, timeout: float = 5.0
    ) -> list[str]:
        """The first `count` messages (matching `where`), once they have arrived."""

        def matching() -> list[str]:
            return [m for m in self.messages if where is None or where(m)]

        async with self._arrived:
            try:
                async with asyncio.timeout(timeout):
                    await self._arrived.wait_for(lambda: len(matching()) >= count)
            except TimeoutError:
                message = _missing(count, timeout, len(matching()), self.messages)
                raise TimeoutError(message) from None
            return matching()[:count]


def _missing(count: int, timeout: float, matched: int, messages: list[str]) -> str:
    return f"expected {count} message(s) within {timeout} s, got {matched}: {messages!r}"


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


async def run_together_async(
    count: int, action: Callable[[int], Awaitable[T]], *, timeout: float = 30.0
) -> list[T]:
    """Await action(0) ... action(count - 1) as `count` tasks at once; their results, in order.

    Every task waits at a barrier until all are ready, so the calls overlap
    wherever they await. Once every call finished, the first exception (in call
    order) is raised. Calls still running after `timeout` seconds are cancelled,
    and TimeoutError is raised.
    """
    barrier = asyncio.Barrier(count)

    async def released(number: int) -> T:
        await barrier.wait()
        return await action(number)

    tasks = [asyncio.create_task(released(number)) for number in range(count)]
    try:
        async with asyncio.timeout(timeout):
            await asyncio.wait(tasks)
    except TimeoutError:
        raise TimeoutError(f"{count} calls did not finish within {timeout} s") from None
    finally:
        for task in tasks:
            task.cancel()  # those still running: none outlives the call
        await asyncio.wait(tasks)
    return [task.result() for task in tasks]
