"""What the worker pool asks of workers to spread one meeting over several: pipes.

Signaling never sees these: they sit behind `SfuClient`, between `sfu.pool` and the
worker processes, and travel over the same control channel (`sfu.methods`,
`sfu.wire`). A pipe carries one producer's stream from the worker that receives it
(the meeting's home worker) to one other worker, where a pipe source stands in for the
producer in a router of the same id; it is opened in three steps:

1. `open_pipe_sink` on the sending worker: its end of the pipe, not yet writing;
2. `open_pipe_source` on the receiving worker, given the sending end's address: the
   source its consumers are created from;
3. `connect_pipe` on the sending worker, given the receiving end's address: the
   producer's packets flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from .api import Kind
from .ids import ProducerId, RouterId


@dataclass(frozen=True, slots=True)
class PipeAddress:
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class PipeCodec:
    """The producer's codec, as the receiving worker's consumers must offer it."""

    mime_type: str
    clock_rate: int
    payload_type: int
    channels: int | None = None
    fmtp: str = ""
    """The codec's format parameters as in SDP, e.g. `packetization-mode=1;...`."""


@dataclass(frozen=True, slots=True)
class PipeSinkOpened:
    address: PipeAddress
    kind: Kind
    codec: PipeCodec
    paused: bool = False
    """Whether the producer is paused (a muted track): its source starts so too."""


@dataclass(frozen=True, slots=True)
class PipeFigures:
    """One end of a pipe, as its worker counts it."""

    pipe_id: str
    producer_id: ProducerId
    end: Literal["sending", "receiving"]
    packets: int
    """RTP packets written into the pipe (sending) or read from it (receiving)."""
    keyframe_requests: int
    """Sending end: keyframe requests that came back up the pipe and were handed to
    the producer. Receiving end: keyframe requests sent up the pipe."""
    bitrate_reports: int
    """REMBs received (sending end) or sent (receiving end)."""
    remb_bps: int | None
    """The last bitrate the receiving worker's subscribers can take, as sent up."""
    consumers: int
    """Receiving end: the consumers fed from it."""
    paused: bool = False
    """Sending end: paused, because every consumer it feeds is."""


class PipeControl(Protocol):
    async def open_router(self, router_id: RouterId) -> None:
        """A router of this id for the receiving end of pipes; nothing if one exists."""
        ...

    async def open_pipe_sink(self, pipe_id: str, producer_id: ProducerId) -> PipeSinkOpened:
        ...

    async def open_pipe_source(self, pipe_id: str, router_id: RouterId,
                               producer_id: ProducerId, kind: Kind, codec: PipeCodec,
                               remote: PipeAddress, paused: bool = False) -> PipeAddress: ...

    async def connect_pipe(self, pipe_id: str, remote: PipeAddress) -> None: ...

    async def pause_pipe(self, pipe_id: str, paused: bool) -> None:
        """Stop (or resume) writing into the pipe: every consumer it feeds is paused."""
        ...

    async def close_pipe(self, pipe_id: str) -> None:
        """Close this worker's end of the pipe; the source's consumers close with it."""
        ...

    async def pipe_figures(self) -> list[PipeFigures]: ...
