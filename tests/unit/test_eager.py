"""run_eagerly: a coroutine runs at once, and goes on in a task only if it waits."""

import asyncio
import logging

import pytest

from peercall.server.eager import run_eagerly


async def test_a_coroutine_that_never_waits_is_done_before_anything_else_runs():
    steps = []

    async def relay() -> None:
        steps.append("relayed")

    assert run_eagerly(relay()) is None
    assert steps == ["relayed"]  # no turn of the event loop in between


async def test_a_coroutine_that_waits_goes_on_in_a_task_with_what_it_waited_for():
    steps = []
    answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def join() -> None:
        steps.append("asked")
        steps.append(await answer)
        await asyncio.sleep(0)  # a bare yield, too
        steps.append("done")

    task = run_eagerly(join())
    assert task is not None
    assert steps == ["asked"]
    answer.set_result("answered")
    await task
    assert steps == ["asked", "answered", "done"]


async def test_cancelling_the_task_cancels_the_coroutine_where_it_waits():
    cleaned_up = asyncio.Event()

    async def wait_forever() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned_up.set()

    task = run_eagerly(wait_forever())
    assert task is not None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned_up.is_set()


async def test_an_error_after_waiting_ends_the_task_with_it():
    async def fail_later() -> None:
        await asyncio.sleep(0)
        raise ValueError("bad")

    task = run_eagerly(fail_later())
    assert task is not None
    with pytest.raises(ValueError, match="bad"):
        await task


async def test_an_error_before_any_wait_is_logged_not_raised(caplog):
    async def fail_at_once() -> None:
        raise ValueError("bad")

    with caplog.at_level(logging.ERROR, logger="peercall.signaling"):
        assert run_eagerly(fail_at_once()) is None
    assert "ValueError: bad" in caplog.text
