"""A meeting participant that pages through the tiles as the meeting page does: it
takes the server's `tile_order`, shows one page of it (leaving itself out) and says
which cameras it shows with `visible`."""

from __future__ import annotations

import asyncio
from typing import Any

from aiortc import RTCRtpReceiver

from sfu.aiortc_peer import count_instead_of_decoding, receiver_streams
from sfu.aiortc_receive import send_pli
from tests.integration.client import MeetingClient

STUCK_S = 1.0
"""A shown camera that decodes nothing for this long is asked for a keyframe, as a
browser's decoder does (aiortc's alone never asks after losing the first keyframe)."""


class PagingClient(MeetingClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.page = 0
        self.order: list[str] = []
        self.per_page = 0
        self.names: dict[str, str] = {}
        """participant id -> username, from the join and later arrivals."""
        self._offers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._answering: asyncio.Task[None] | None = None
        self._unsticking: asyncio.Task[None] | None = None
        self._counted: set[RTCRtpReceiver] = set()

    async def connect(self) -> None:
        await super().connect()
        self._unsticking = asyncio.create_task(self._unstick())

    async def _unstick(self) -> None:
        last: dict[str, int] = {}
        while True:
            await asyncio.sleep(STUCK_S)
            shown = set(self.shown())
            for transceiver in self.subscriber.pc.getTransceivers():
                label = self.subscriber.mid_labels.get(str(transceiver.mid))
                if transceiver.kind != "video" or label not in shown:
                    continue
                video = self.subscriber.video.get(label)
                frames = video.frames if video else 0
                ssrcs = list(receiver_streams(transceiver.receiver))
                if frames == last.get(label) and ssrcs:
                    try:
                        await send_pli(transceiver.receiver, ssrcs[0])
                    except ConnectionError:
                        pass
                last[label] = frames

    async def _answer(self, offer: dict[str, Any]) -> None:
        """Answer offers in order, off the socket's reader, so that the reader keeps
        answering the server's heartbeat while aiortc is slow (a dozen peers on a busy
        machine)."""
        if self._answering is None:
            self._answering = asyncio.create_task(self._answer_each())
        self._offers.put_nowait(offer)

    async def _answer_each(self) -> None:
        while True:
            await super()._answer(await self._offers.get())
            self._count_audio()

    def _count_audio(self) -> None:
        """Receive the microphones without decoding them: what is checked here is the
        cameras, and a dozen Opus decoders would starve the peers' own sockets on a
        busy machine (the speaker is found by the SFU, from the levels it forwards)."""
        for transceiver in self.subscriber.pc.getTransceivers():
            receiver = transceiver.receiver
            if transceiver.kind == "audio" and receiver not in self._counted:
                self._counted.add(receiver)
                count_instead_of_decoding(receiver, lambda packet: None)

    async def close(self) -> None:
        for task in (self._answering, self._unsticking):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await super().close()

    async def on_message(self, message: dict[str, Any]) -> None:
        if message["type"] == "joined":
            self.participant_id = message["participant_id"]
            self.names = {p["participant_id"]: p["username"] for p in message["participants"]}
        elif message["type"] == "participant_joined":
            self.names[message["participant"]["participant_id"]] = (
                message["participant"]["username"])
        elif message["type"] == "tile_order":
            self.order, self.per_page = list(message["order"]), int(message["per_page"])
            await self.show()

    async def expect(self, kind: str, timeout: float = 30.0, after: int = 0) -> dict[str, Any]:
        """As for any client, with more time: a dozen peers share a busy machine."""
        return await super().expect(kind, timeout, after)

    def others(self) -> list[str]:
        return [pid for pid in self.order if pid != self.participant_id]

    def pages(self) -> int:
        return max(1, -(-len(self.others()) // max(1, self.per_page)))

    def shown_ids(self) -> list[str]:
        start = self.page * self.per_page
        return self.others()[start:start + self.per_page]

    def shown(self) -> list[str]:
        """The usernames of the cameras this page shows."""
        return [self.names.get(pid, pid) for pid in self.shown_ids()]

    async def show(self, page: int | None = None) -> None:
        if page is not None:
            self.page = page
        self.page = min(self.page, self.pages() - 1)
        await self.send({"type": "visible", "tiles": [
            {"participant_id": pid, "size": "small"} for pid in self.shown_ids()]})
