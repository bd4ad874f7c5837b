"""AsyncInbox and run_together_async: what a test awaits, with a deadline, on one event loop."""

import pytest

INBOX_TESTS = """
import asyncio

import pytest
from service_harness import AsyncInbox


def test_waits_for_what_arrives_later():
    async def scenario():
        inbox = AsyncInbox()

        async def deliver():
            for message in ("a", "b", "c"):
                await inbox(message)

        delivery = asyncio.create_task(deliver())  # runs once wait_for gives the loop up
        assert await inbox.wait_for(2) == ["a", "b"]
        await delivery
        assert inbox.messages == ["a", "b", "c"]

    asyncio.run(scenario())


def test_where_picks_the_matching_messages():
    async def scenario():
        inbox = AsyncInbox()
        waiting = asyncio.create_task(inbox.wait_for(1, where=lambda m: m.startswith("order")))
        await inbox("inventory 1")
        await inbox("order 7")
        assert await waiting == ["order 7"]

    asyncio.run(scenario())


def test_a_missing_message_fails_at_the_deadline():
    async def scenario():
        inbox = AsyncInbox()
        await inbox("only one")
        with pytest.raises(TimeoutError) as failure:
            await inbox.wait_for(2, timeout=0.05)
        return str(failure.value)

    assert asyncio.run(scenario()) == "expected 2 message(s) within 0.05 s, got 1: ['only one']"
"""

TOGETHER_TESTS = """
import asyncio

import pytest
from service_harness import run_together_async


def test_the_calls_overlap_and_results_come_in_call_order():
    async def scenario():
        inside = []
        everyone_inside = asyncio.Event()

        async def action(number):
            inside.append(number)
            if len(inside) == 3:
                everyone_inside.set()
            await everyone_inside.wait()  # one call at a time would never get past this
            return number * 10

        return await run_together_async(3, action, timeout=5)

    assert asyncio.run(scenario()) == [0, 10, 20]


def test_the_first_failure_is_raised_once_every_call_finished():
    async def scenario():
        finished = []

        async def action(number):
            if number in (1, 2):
                raise ValueError(f"call {number} failed")
            finished.append(number)
            return number

        with pytest.raises(ValueError, match="call 1 failed"):
            await run_together_async(4, action)
        return sorted(finished)

    assert asyncio.run(scenario()) == [0, 3]


def test_calls_that_outlast_the_timeout_fail_and_are_cancelled():
    async def scenario():
        cancelled = []
        never = asyncio.Event()

        async def action(number):
            try:
                await never.wait()
            except asyncio.CancelledError:
                cancelled.append(number)
                raise

        with pytest.raises(TimeoutError, match="2 calls did not finish within 0.05 s"):
            await run_together_async(2, action, timeout=0.05)
        return sorted(cancelled)

    assert asyncio.run(scenario()) == [0, 1]
"""


@pytest.mark.parametrize(
    ("tests", "passed"), [(INBOX_TESTS, 3), (TOGETHER_TESTS, 3)], ids=["AsyncInbox", "together"]
)
def test_async_waiting(pytester: pytest.Pytester, tests: str, passed: int) -> None:
    pytester.makepyprojecttoml("[tool.pytest.ini_options]\n")
    pytester.makepyfile(test_awaiting=tests)

    result = pytester.runpytest()

    result.assert_outcomes(passed=passed)
