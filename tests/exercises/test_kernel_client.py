"""The kernel client for notebook runs polls in slices, so a missed wake-up costs a second, not the timeout."""

from __future__ import annotations

import asyncio
from queue import Empty

import pytest
from jupyter_client.channels import AsyncZMQSocketChannel

from labkit.exercises import kernel_client
from labkit.exercises.kernel_client import SLICE, SlicedChannel, SteadyKernelClient, SteadyKernelManager


class Clock:
    """A monotonic clock that only the fake polls move."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def polls(monkeypatch: pytest.MonkeyPatch) -> list[float | None]:
    """The timeouts of the polls a SlicedChannel makes; a message is there from the fourth poll on."""
    clock, asked = Clock(), []

    async def poll_once(self: AsyncZMQSocketChannel, timeout: float | None = None) -> dict:
        asked.append(timeout)
        if len(asked) < 4:
            clock.now += timeout or 0.0
            raise Empty
        return {"msg_type": "execute_reply"}

    monkeypatch.setattr(kernel_client.time, "monotonic", clock)
    monkeypatch.setattr(AsyncZMQSocketChannel, "get_msg", poll_once)
    return asked


def test_a_long_wait_is_polled_in_slices(polls: list[float | None]) -> None:
    channel = SlicedChannel.__new__(SlicedChannel)
    assert asyncio.run(channel.get_msg(timeout=600)) == {"msg_type": "execute_reply"}
    assert polls == [SLICE] * 4  # never one 600 s poll that a missed wake-up would sleep through


def test_no_timeout_is_polled_in_slices_too(polls: list[float | None]) -> None:
    channel = SlicedChannel.__new__(SlicedChannel)
    assert asyncio.run(channel.get_msg()) == {"msg_type": "execute_reply"}
    assert polls == [SLICE] * 4


def test_the_timeout_still_ends_the_wait(polls: list[float | None]) -> None:
    channel = SlicedChannel.__new__(SlicedChannel)
    with pytest.raises(Empty):
        asyncio.run(channel.get_msg(timeout=2.5))
    assert polls == [SLICE, SLICE, 0.5]


def test_notebook_runs_get_the_sliced_client() -> None:
    client = SteadyKernelManager().client()
    assert isinstance(client, SteadyKernelClient)
    assert client.shell_channel_class is SlicedChannel and client.iopub_channel_class is SlicedChannel
