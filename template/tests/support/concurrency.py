"""Run work concurrently, released at one moment by a barrier: races show up, no sleep needed."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

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
