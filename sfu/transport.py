"""A Transport is one participant's RTCPeerConnection, in one of two roles.

- publish: the browser offers its tracks, the SFU answers and receives.
- subscribe: the SFU offers the tracks it forwards, the browser answers.

Splitting the two directions (as mediasoup-client does) means each side always
offers in the same direction, so there is never an offer collision.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.rtcrtpparameters import RTCRtpCodecCapability, RTCRtpCodecParameters
from aiortc.rtcrtptransceiver import RTCRtpTransceiver
from aiortc.sdp import MediaDescription, SessionDescription, candidate_from_sdp

from . import aiortc_adapter as adapter
from .aiortc_ports import UdpPortsExhausted, bind_from_range
from .aiortc_receive import guard_rtcp, install_fast_receive
from .api import (
    InvalidSdpError,
    NegotiationInProgressError,
    NoOfferError,
    PortsExhaustedError,
    TransportClosedError,
    TransportRole,
    WrongRoleError,
)
from .codecs import steering_rank
from .config import SfuSettings, port_range
from .ids import RouterId, TransportId
from .rewrite import SequenceRewriter
from .sdp_sections import complete_rejected, keeps_layout, layout

logger = logging.getLogger(__name__)

MAX_SDP_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, AssertionError)


def check_description(sdp: str, what: str) -> list[MediaDescription]:
    """Refuse a description aiortc would accept but that cannot carry media; return
    its audio and video sections.

    aiortc parses almost any text starting with v=0 as an empty session; a browser's
    description always has audio/video sections with ICE credentials and a DTLS
    fingerprint. In an answer, a rejected section (port 0) has neither and carries
    nothing; at least one section must be accepted.
    """
    try:
        parsed = SessionDescription.parse(sdp)
    except MAX_SDP_ERRORS as exc:
        raise InvalidSdpError(f"the {what} is not a valid session description: {exc}") from exc
    media = [m for m in parsed.media if m.kind in ("audio", "video")]
    if not media:
        raise InvalidSdpError(f"the {what} has no audio or video section")
    checked = [m for m in media if not (what == "answer" and m.port == 0)]
    if not checked:
        raise InvalidSdpError(f"the {what} rejects every audio and video section")
    for m in checked:
        if m.ice is None or not m.ice.usernameFragment or not m.ice.password:
            raise InvalidSdpError(f"the {what}'s {m.kind} section has no ICE credentials")
        if m.dtls is None or not m.dtls.fingerprints:
            raise InvalidSdpError(f"the {what}'s {m.kind} section has no DTLS fingerprint")
    return media


def keeping(mime_type: str) -> Callable[[str], tuple[int, int]]:
    """A codec rank that puts `mime_type` first and leaves the rest as they are."""
    return lambda mime: (int(mime.lower() != mime_type), 0)


def steering(video_codecs: list[str], undecodable: set[str]
             ) -> Callable[[str], tuple[int, int]]:
    """A codec rank by `sfu.codecs.steering_rank`."""
    return lambda mime: steering_rank(mime, video_codecs, undecodable)


class SilentTrack(MediaStreamTrack):
    """Occupies a forwarding sender: its recv() never returns, so aiortc encodes nothing.

    The forwarded packets are written to the sender's transport by the Consumer.
    """

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def recv(self) -> None:  # type: ignore[override]
        await self._never


def rtc_configuration(settings: SfuSettings) -> RTCConfiguration:
    # Always an explicit list: aiortc falls back to a public STUN server otherwise. The
    # SFU is reached directly; TURN relays are for the browsers.
    servers = [RTCIceServer(urls=stun) for s in settings.ice_servers
               if (stun := [url for url in s.urls if url.startswith("stun:")])]
    return RTCConfiguration(iceServers=servers, bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)


def codec_preferences(codec: RTCRtpCodecParameters) -> list[RTCRtpCodecCapability]:
    """Offer a subscriber exactly the publisher's codec (plus RTX for video)."""
    prefs = [RTCRtpCodecCapability(mimeType=codec.mimeType, clockRate=codec.clockRate,
                                   channels=codec.channels, parameters=dict(codec.parameters))]
    if codec.mimeType.lower().startswith("video/"):
        prefs.append(RTCRtpCodecCapability(mimeType="video/rtx", clockRate=codec.clockRate))
    return prefs


class Transport:
    def __init__(self, transport_id: TransportId, router_id: RouterId, role: TransportRole,
                 settings: SfuSettings,
                 on_state: Callable[[Transport, str], None]) -> None:
        self.id = transport_id
        self.router_id = router_id
        self.role = role
        self.pc = RTCPeerConnection(rtc_configuration(settings))
        self._ports = port_range(settings.udp_ports)
        """Where this transport's ICE sockets take their ports from; None = any."""
        self.closed = False
        self.lost = False
        """The connection ended without close() being asked for: ICE failed, consent
        expired or the other end closed DTLS. It takes no more requests."""
        self._on_state = on_state
        self._free: list[RTCRtpTransceiver] = []
        self._numbering: dict[int, SequenceRewriter] = {}
        """Per sending transceiver: its SSRC keeps one numbering across consumers."""
        self._released: list[RTCRtpTransceiver] = []
        self._rejected: set[str] = set()
        """Subscribe mids the browser rejected once: never reused for another stream."""
        self._refused = False
        """The last answer was refused: the next offer may replace the one it answered."""
        self.decodes: set[str] | None = None
        """Publish role: the video codecs (lowercase MIME types) the browser's offer
        lists, which it can decode too; None until it offers video."""
        self.cannot_decode: set[str] = set()
        """Subscribe role: the codecs whose sections the browser rejected."""
        self._lock = asyncio.Lock()
        self._closing: asyncio.Future[None] | None = None
        self.pc.on("connectionstatechange", self._state_changed)

    @property
    def connection_state(self) -> str:
        return str(self.pc.connectionState)

    def _state_changed(self) -> None:
        state = self.pc.connectionState
        logger.info("transport %s (%s) %s", self.id, self.role, state)
        if state == "connected":
            for transceiver in self.pc.getTransceivers():
                guard_rtcp(transceiver.receiver.transport)
                if self.role == "publish":
                    install_fast_receive(transceiver.receiver.transport)
        elif state in ("failed", "closed") and self._closing is None:
            self.lost = True
            self.closed = True
        self._on_state(self, state)

    # ------------------------------------------------------------ publish role

    async def answer_offer(self, offer_sdp: str,
                           undecodable: Callable[[], set[str]] = set,
                           video_codecs: list[str] | None = None) -> str:
        """Apply the publisher's offer and return the answer (with host candidates).

        Each new video section's codecs are answered in the order of `video_codecs`,
        those in `undecodable()` (someone cannot decode them) last.
        """
        self._require_role("publish")
        media = check_description(offer_sdp, "offer")
        async with self._lock:
            remote = self.pc.remoteDescription
            before = layout(remote.sdp) if remote is not None else []
            if not keeps_layout(before, layout(offer_sdp)):
                raise InvalidSdpError("the offer drops, moves or changes the kind of a media "
                                      "section of the earlier offer")
            sending = {str(t.mid): codecs[0].mimeType.lower()
                       for t in self.pc.getTransceivers()
                       if t.mid is not None and (codecs := adapter.negotiated_codecs(t))}
            try:
                await self.pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
            except MAX_SDP_ERRORS as exc:
                raise InvalidSdpError(f"the offer could not be applied: {exc}") from exc
            except Exception as exc:  # aiortc's InvalidStateError, OperationError
                raise InvalidSdpError(f"the offer was refused: {exc}") from exc
            video = [m for m in media if m.kind == "video"]
            if video:
                self.decodes = {c.mimeType.lower() for m in video for c in m.rtp.codecs}
            self._steer(sending, undecodable() if video_codecs is not None else set(),
                        video_codecs)
            try:
                answer = await self.pc.createAnswer()
                await self._set_local(answer)
            except MAX_SDP_ERRORS as exc:
                raise InvalidSdpError(f"the offer cannot be answered: {exc}") from exc
            return str(self.pc.localDescription.sdp)

    def _steer(self, sending: dict[str, str], undecodable: set[str],
               video_codecs: list[str] | None) -> None:
        """Order each video section's codecs for the answer: a section already
        answered keeps the codec it sends (`sending`, by mid), whatever order the new
        offer lists; a new one is steered by `video_codecs` (when given)."""
        for transceiver in self.pc.getTransceivers():
            if transceiver.kind != "video" or transceiver.mid is None:
                continue
            kept = sending.get(str(transceiver.mid))
            if kept is not None:
                adapter.order_codecs(transceiver, keeping(kept))
            elif video_codecs is not None:
                adapter.order_codecs(transceiver, steering(video_codecs, undecodable))

    async def _set_local(self, description: RTCSessionDescription) -> None:
        """Apply our own offer or answer; its ICE gathering binds this transport's socket."""
        bind_from_range(self.pc, self._ports)
        try:
            await self.pc.setLocalDescription(description)
        except UdpPortsExhausted as exc:
            raise PortsExhaustedError(exc.strerror or str(exc)) from exc

    def announced_ssrcs(self, mid: str) -> set[int]:
        """The SSRCs (media and RTX) the publisher's offer announces for `mid`."""
        remote = self.pc.remoteDescription
        if remote is None:
            return set()
        return {s.ssrc for m in SessionDescription.parse(remote.sdp).media
                if m.rtp.muxId == mid for s in m.ssrc}

    def receiving_transceivers(self) -> list[RTCRtpTransceiver]:
        return [t for t in self.pc.getTransceivers()
                if t.mid is not None and t.currentDirection in ("recvonly", "sendrecv")]

    # ------------------------------------------------------------ subscribe role

    def add_sending_transceiver(self, kind: str, codec: RTCRtpCodecParameters
                                ) -> tuple[RTCRtpTransceiver, SequenceRewriter]:
        """A sendonly transceiver for a new consumer; reuses one released earlier.

        A reused transceiver keeps its SSRC, so the browser sees the same stream: the
        new consumer continues that stream's sequence numbers and timestamps.
        """
        self._require_role("subscribe")
        transceiver = next((t for t in self._free if t.kind == kind), None)
        if transceiver is not None:
            self._free.remove(transceiver)
            transceiver.direction = "sendonly"
        else:
            transceiver = self.pc.addTransceiver(SilentTrack(kind), direction="sendonly")
        transceiver.setCodecPreferences(codec_preferences(codec))
        numbering = self._numbering.setdefault(id(transceiver),
                                               SequenceRewriter(codec.clockRate))
        numbering.clock_rate = codec.clockRate
        return transceiver, numbering

    def release_transceiver(self, transceiver: RTCRtpTransceiver) -> None:
        """Stop sending on it; it can be reused once the browser has seen it inactive."""
        transceiver.direction = "inactive"
        self._released.append(transceiver)

    async def create_offer(self) -> str:
        self._require_role("subscribe")
        async with self._lock:
            if self.closed:
                raise TransportClosedError(f"transport {self.id} is closed")
            if self.pc.signalingState != "stable" and not self._refused:
                raise NegotiationInProgressError(
                    "the previous offer has not been answered yet")
            offer = await self.pc.createOffer()
            await self._set_local(offer)
            self._refused = False
            return str(self.pc.localDescription.sdp)

    async def apply_answer(self, answer_sdp: str) -> list[RTCRtpTransceiver]:
        """Apply the browser's answer; returns the sending transceivers it rejected or
        left inactive, which carry nothing. A refused answer leaves the offer waiting
        for a good answer, or for the next offer to replace it."""
        self._require_role("subscribe")
        async with self._lock:
            if self.pc.signalingState != "have-local-offer":
                raise NoOfferError("there is no offer waiting for an answer")
            try:
                check_description(answer_sdp, "answer")
                completed, rejected = complete_rejected(answer_sdp,
                                                        str(self.pc.localDescription.sdp))
                await self.pc.setRemoteDescription(RTCSessionDescription(completed, "answer"))
            except InvalidSdpError:
                self._refused = True
                raise
            except MAX_SDP_ERRORS as exc:
                self._refused = True
                raise InvalidSdpError(f"the answer could not be applied: {exc}") from exc
            except Exception as exc:
                self._refused = True
                raise InvalidSdpError(f"the answer was refused: {exc}") from exc
            self._refused = False
            self._rejected |= rejected
            # The browser has now seen the released transceivers go inactive.
            self._free.extend(t for t in self._released if t.mid not in self._rejected)
            self._released.clear()
            return [t for t in self.pc.getTransceivers() if t.direction == "sendonly"
                    and t.currentDirection not in ("sendonly", "sendrecv")]

    # ------------------------------------------------------------ both roles

    async def add_ice_candidate(self, candidate: str, sdp_mid: str | None,
                                sdp_mline_index: int | None) -> None:
        if self.closed:
            raise TransportClosedError(f"transport {self.id} is closed")
        if not candidate:
            return  # end of candidates: aiortc needs no signal
        text = candidate.removeprefix("candidate:")
        try:
            parsed = candidate_from_sdp(text)
        except MAX_SDP_ERRORS as exc:
            raise InvalidSdpError(f"the ICE candidate is malformed: {exc}") from exc
        parsed.sdpMid = sdp_mid
        parsed.sdpMLineIndex = sdp_mline_index
        try:
            await self.pc.addIceCandidate(parsed)
        except MAX_SDP_ERRORS as exc:
            raise InvalidSdpError(f"the ICE candidate was refused: {exc}") from exc

    def senders(self) -> list[RTCRtpSender]:
        return self.pc.getSenders()

    def _require_role(self, role: TransportRole) -> None:
        if self.role != role:
            raise WrongRoleError(f"transport {self.id} is a {self.role} transport")
        if self.closed:
            raise TransportClosedError(f"transport {self.id} is closed")

    async def close(self) -> None:
        """Close the peer connection; runs to the end even if the caller is cancelled."""
        if self._closing is None:
            self.closed = True
            self._closing = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        # Wait for an offer or answer in progress: its ICE gathering opens sockets that
        # only pc.close() releases.
        async with self._lock:
            for sender in self.pc.getSenders():
                track = sender.track
                if isinstance(track, SilentTrack):
                    track.stop()
            await self.pc.close()
