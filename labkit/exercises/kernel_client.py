"""A kernel client for running notebooks (nbclient) that cannot sleep through a message.

nbclient waits for a cell's reply with one poll as long as the cell's timeout (600 s here), and
for its outputs with no timeout at all. When the event loop misses the wake-up of the zmq socket,
the reply sits in the socket until that poll times out and pyzmq looks once more: the run then
goes on as if nothing happened, ten minutes late (seen in the test suite: a notebook run that took
625 s with its kernel idle). Polling in slices of a second bounds what a missed wake-up costs.
"""

from __future__ import annotations

import time
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.manager import AsyncKernelManager
from traitlets import DottedObjectName, Type

SLICE = 1.0  # seconds: the longest one poll waits before it looks at the socket again


class SlicedChannel(AsyncZMQSocketChannel):
    """A channel whose `get_msg` polls at most `SLICE` seconds at a time until its timeout."""

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:  # type: ignore[override]  # async, as its base
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = SLICE if deadline is None else max(0.0, min(SLICE, deadline - time.monotonic()))
            try:
                return await super().get_msg(timeout=left)
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise


class SteadyKernelClient(AsyncKernelClient):
    """nbclient's kernel client, with the shell and IOPub channels polled in slices."""

    shell_channel_class = Type(SlicedChannel)
    iopub_channel_class = Type(SlicedChannel)


class SteadyKernelManager(AsyncKernelManager):
    """The kernel manager to give nbclient (`kernel_manager_class=`): its clients are `SteadyKernelClient`s."""

    client_class = DottedObjectName("labkit.exercises.kernel_client.SteadyKernelClient")
    client_factory = Type(default_value=SteadyKernelClient, klass=AsyncKernelClient)
