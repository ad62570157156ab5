"""The composition queue stops when cancelled, even when a wake-up lands in the same
loop turn as the cancellation (the server shuts down as a recording is queued)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from signaling.records.compose_jobs import ComposeQueue
from signaling.records.recordings import RecordingService
from signaling.store import Store


async def test_a_cancel_racing_a_wake_up_stops_the_queue(store: Store, tmp_path: Path) -> None:
    queue = ComposeQueue(RecordingService(store, tmp_path / "rec"), "grid", poll_s=0.05)
    for _ in range(20):
        running = asyncio.ensure_future(queue.run())
        await asyncio.sleep(0.01)  # nothing queued: it waits for a wake-up
        queue.wake()
        running.cancel()
        await asyncio.wait({running}, timeout=10)  # a bound: it takes a loop turn or two
        stopped = running.done()
        if not stopped:
            running.cancel()  # let the test end
        assert stopped and running.cancelled(), "the queue kept running after its cancel"
