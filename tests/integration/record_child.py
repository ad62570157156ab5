"""An SFU engine recording one aiortc publisher, run as its own process so that the
crash-safety test can SIGKILL it mid-recording.

    python -m tests.integration.record_child DIRECTORY SEGMENT_SECONDS INDEX

Prints "recording" once the first segment is being written, then runs until killed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from sfu.config import RecorderSettings, SfuSettings
from sfu.engine import Engine
from tests.integration.peers import Publisher

LIFETIME_S = 60.0


async def main(directory: str, segment_seconds: int, index: int) -> None:
    engine = Engine(SfuSettings(announced_addresses=["127.0.0.1"]),
                    recording=RecorderSettings(segment_seconds=segment_seconds, min_free_mb=10))
    await engine.start()
    router = await engine.create_router()
    await engine.start_recording(router, directory)
    transport = await engine.create_transport(router, "publish")
    publisher = Publisher(index=index)
    result = await engine.publish(transport, await publisher.offer())
    await publisher.accept(result.answer_sdp)
    segments = Path(directory) / "segments"
    for _ in range(400):
        if any(p.name.endswith(".webm.part") for p in segments.iterdir()):
            break
        await asyncio.sleep(0.05)
    print("recording", flush=True)
    await asyncio.sleep(LIFETIME_S)  # never reached in the test: the process is killed


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
