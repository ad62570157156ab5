"""A meeting participant for tests: real /ws signaling plus real aiortc peers."""

from __future__ import annotations

import asyncio
import json
import ssl
from typing import Any

import aiohttp

from tests.integration.peers import Publisher, Subscriber


class MeetingClient:
    def __init__(self, base_url: str, session_token: str, username: str, index: int,
                 publisher: Publisher | None = None, tls: ssl.SSLContext | None = None,
                 origin: str | None = None, cookie: str = "giaoban_session") -> None:
        self.base_url = base_url
        self.tls = tls
        """Trusted certificates for a wss:// socket."""
        self.origin = origin
        """The Origin header a browser would send (none by default)."""
        self.token = session_token
        self.cookie = cookie
        """The cookie the token goes in: a session, or a guest's pass (giaoban_guest)."""
        self.username = username
        self.index = index
        self.publisher = publisher or Publisher(index=index)
        self.subscriber = Subscriber()
        self.messages: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._new_message = asyncio.Event()
        self.participant_id: str | None = None

    async def connect(self) -> None:
        self._http = aiohttp.ClientSession(cookies={self.cookie: self.token})
        headers = {"Origin": self.origin} if self.origin else {}
        self._ws = await self._http.ws_connect(self.base_url + "/ws", headers=headers,
                                               ssl=self.tls if self.tls else True)
        self._reader = asyncio.create_task(self._read())
        await self.send({"type": "hello", "version": 1})
        await self.expect("welcome")

    async def send(self, message: dict[str, Any]) -> None:
        assert self._ws is not None
        await self._ws.send_str(json.dumps(message))

    async def send_raw(self, text: str) -> None:
        assert self._ws is not None
        await self._ws.send_str(text)

    async def join(self, meeting_id: str) -> dict[str, Any]:
        await self.send({"type": "join", "meeting_id": meeting_id})
        joined = await self.expect("joined")
        self.participant_id = joined["participant_id"]
        return joined

    async def publish(self) -> dict[str, Any]:
        sdp = await self.publisher.offer()
        await self.send({"type": "publish", "sdp": sdp, "tracks": self.publisher.tracks()})
        published = await self.expect("published")
        await self.publisher.accept(published["sdp"])
        return published

    async def _read(self) -> None:
        assert self._ws is not None
        async for msg in self._ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            self.messages.append(data)
            if data["type"] == "error":
                self.errors.append(data)
            elif data["type"] == "offer":
                await self._answer(data)
            await self.on_message(data)
            self._new_message.set()

    async def on_message(self, message: dict[str, Any]) -> None:
        """Called with each message as it arrives; a page's own reactions go here."""

    async def _answer(self, offer: dict[str, Any]) -> None:
        for consumer in offer["consumers"]:
            label = consumer["username"]
            if consumer["source"] == "screen":
                label += "/screen"
            self.subscriber.mid_labels[consumer["mid"]] = label
        answer = await self.subscriber.answer(offer["sdp"])
        await self.send({"type": "answer", "sdp": answer})

    async def expect(self, kind: str, timeout: float = 10.0, after: int = 0) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for message in self.messages[after:]:
                if message["type"] == kind:
                    return message
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"{self.username}: no {kind!r} within {timeout}s; "
                                     f"got {[m['type'] for m in self.messages]}")
            self._new_message.clear()
            try:
                await asyncio.wait_for(self._new_message.wait(), timeout=remaining)
            except TimeoutError:
                pass

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        await self.subscriber.close()
        await self.publisher.pc.close()
        if self._http is not None:
            await self._http.close()
