"""The /ws wire protocol, version 1.

Every message is a JSON object with a "type". The first client message must be
`hello`; the server answers `welcome`. Each client message is parsed into a typed,
validated dataclass; anything else is answered with an `error` message and the
connection goes on.

Client -> server: hello, join, publish, unpublish, answer, ice, mute, recording, leave,
quality_report, visible (signaling/live/tiles_protocol.py), the hands and host
controls (host_protocol.py); chat, lock and lobby messages (protocol_chat_lobby.py).
Server -> client: welcome, joined, published, offer, participant_joined,
participant_left, track_published, track_unpublished, track_unsupported, mute_changed,
active_speaker, recording_state, quality, tile_order, error, and those of
signaling/live/host_protocol.py.

A `quality_report` that is malformed or too large raises InvalidQualityReport; the
socket drops and counts it without answering.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal, TypeAlias

from signaling.errors import InvalidMessage
from signaling.live import host_protocol as hp
from signaling.live import protocol_chat_lobby as cl
from signaling.live.tiles_protocol import TileOrder, Visible
from signaling.live.wire_fields import (
    Choice,
    Entries,
    Flag,
    Text,
    Whole,
    WholeMessage,
    parse_fields,
)
from signaling.quality.client_reports import (
    MAX_REPORT_BYTES,
    ClientSummary,
    InvalidQualityReport,
    parse_summary,
)

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 256 * 1024
MAX_SDP_BYTES = 128 * 1024
MAX_TRACKS_PER_OFFER = 8


Kind = Literal["audio", "video"]
Source = Literal["camera", "microphone", "screen"]
TransportRole = Literal["publish", "subscribe"]

KINDS: tuple[str, ...] = ("audio", "video")
SOURCES: tuple[str, ...] = ("camera", "microphone", "screen")
TRANSPORT_ROLES: tuple[str, ...] = ("publish", "subscribe")
RECORDING_ACTIONS: tuple[str, ...] = ("start", "stop")


# ---------------------------------------------------------------- field checks


def _version(d: dict[str, Any], key: str) -> int:
    version = Whole()(d, key)
    if version != PROTOCOL_VERSION:
        raise InvalidMessage(
            f"protocol version {version} is not supported; "
            f"this server speaks {PROTOCOL_VERSION}"
        )
    return int(version)


def _sdp(d: dict[str, Any], key: str) -> str:
    sdp = Text(max_len=MAX_SDP_BYTES)(d, key)
    if not sdp.startswith("v=0"):
        raise InvalidMessage("'sdp' is not a session description (it must start with v=0)")
    return str(sdp)


SdpField = Annotated[str, _sdp]
KindField = Annotated[Kind, Choice(KINDS)]
SourceField = Annotated[Source, Choice(SOURCES)]


# ---------------------------------------------------------------- client -> server
# Each is read by signaling/live/wire_fields.py's parse_fields.


@dataclass(frozen=True, slots=True)
class Hello:
    type: ClassVar[str] = "hello"
    version: Annotated[int, _version]


@dataclass(frozen=True, slots=True)
class Join:
    type: ClassVar[str] = "join"
    meeting_id: Annotated[str, Text(max_len=64)]


@dataclass(frozen=True, slots=True)
class TrackOffer:
    """One track the browser wants to publish, identified by its m-line mid."""

    mid: Annotated[str, Text(max_len=32)]
    kind: KindField
    source: SourceField


@dataclass(frozen=True, slots=True)
class Publish:
    type: ClassVar[str] = "publish"
    sdp: SdpField
    tracks: Annotated[tuple[TrackOffer, ...], Entries(TrackOffer, MAX_TRACKS_PER_OFFER)] = ()


@dataclass(frozen=True, slots=True)
class Unpublish:
    type: ClassVar[str] = "unpublish"
    producer_id: Annotated[str, Text(max_len=64)]


@dataclass(frozen=True, slots=True)
class Answer:
    """The browser's answer to the server's latest subscribe offer."""

    type: ClassVar[str] = "answer"
    sdp: SdpField


@dataclass(frozen=True, slots=True)
class Ice:
    """A trickled ICE candidate from the browser; an empty candidate ends gathering."""

    type: ClassVar[str] = "ice"
    transport: Annotated[TransportRole, Choice(TRANSPORT_ROLES)]
    candidate: Annotated[str, Text(max_len=1024)]
    sdp_mid: Annotated[str | None, Text(max_len=32, optional=True)] = None
    sdp_mline_index: Annotated[int | None, Whole(optional=True)] = None


@dataclass(frozen=True, slots=True)
class Mute:
    type: ClassVar[str] = "mute"
    kind: KindField
    muted: Annotated[bool, Flag()]


@dataclass(frozen=True, slots=True)
class Recording:
    """Start or stop recording the meeting (on-demand meetings; organizer or secretary)."""

    type: ClassVar[str] = "recording"
    action: Annotated[Literal["start", "stop"], Choice(RECORDING_ACTIONS)]


@dataclass(frozen=True, slots=True)
class Leave:
    type: ClassVar[str] = "leave"


@dataclass(frozen=True, slots=True)
class QualityReport:
    """The browser's getStats() summary, sent every 5 s (signaling/quality/client_reports.py)."""

    type: ClassVar[str] = "quality_report"
    summary: Annotated[ClientSummary, WholeMessage(parse_summary)]
    size: int = 0
    """Length of the message as received, for the configured size cap."""


ClientMessage: TypeAlias = (Hello | Join | Publish | Unpublish | Answer | Ice | Mute | Recording
                            | Leave | QualityReport | hp.HostMessage
                            | cl.ChatLobbyClientMessage | Visible)

CLIENT_MESSAGES: dict[str, Any] = {
    m.type: m for m in (Hello, Join, Publish, Unpublish, Answer, Ice, Mute, Recording, Leave,
                        QualityReport, *hp.HOST_CLIENT_MESSAGES,
                        *cl.CHAT_LOBBY_MESSAGES, Visible)
}


def parse_client_message(text: str | bytes) -> ClientMessage:
    """Parse and validate one client message; raise InvalidMessage with a clear reason."""
    if len(text) > MAX_MESSAGE_BYTES:
        raise InvalidMessage(f"message is larger than {MAX_MESSAGE_BYTES} bytes")
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise InvalidMessage("message is not valid JSON") from None
    except RecursionError:
        raise InvalidMessage("message is nested too deeply") from None
    if not isinstance(data, dict):
        raise InvalidMessage("message must be a JSON object")
    kind = data.get("type")
    cls = CLIENT_MESSAGES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise InvalidMessage(f"unknown message type {kind!r}")
    if cls is QualityReport and len(text) > MAX_REPORT_BYTES:
        raise InvalidQualityReport("oversized", f"report is larger than {MAX_REPORT_BYTES} bytes")
    message: ClientMessage = parse_fields(cls, data)
    if isinstance(message, QualityReport):
        message = QualityReport(summary=message.summary, size=len(text))
    return message


# ---------------------------------------------------------------- server -> client


@dataclass(frozen=True, slots=True)
class ParticipantInfo:
    participant_id: str
    username: str
    display_name: str
    audio_muted: bool = False
    video_muted: bool = False
    host: bool = False
    """Chairs the meeting (signaling/accounts/hosts.py)."""
    unit: str = ""
    """The unit the person works in, as their account says; empty when none is set."""


@dataclass(frozen=True, slots=True)
class TrackInfo:
    producer_id: str
    participant_id: str
    username: str
    kind: Kind
    source: Source


@dataclass(frozen=True, slots=True)
class ConsumerInfo:
    """Which subscribe m-line (mid) carries which participant's track."""

    mid: str
    producer_id: str
    participant_id: str
    username: str
    kind: Kind
    source: Source


@dataclass(frozen=True, slots=True)
class Welcome:
    type: ClassVar[str] = "welcome"
    version: int
    username: str
    display_name: str


@dataclass(frozen=True, slots=True)
class Joined:
    type: ClassVar[str] = "joined"
    meeting_id: str
    title: str
    participant_id: str
    participants: list[ParticipantInfo]
    tracks: list[TrackInfo]
    ice_servers: list[dict[str, Any]]
    host: bool = False
    """This participant chairs the meeting."""
    owner: bool = False
    """This participant may name co-hosts."""
    hands: list[hp.HandInfo] = field(default_factory=list)
    spotlight: hp.SpotlightInfo | None = None
    mic_off_on_entry: bool = False
    """The microphone starts off: the meeting is large (`[meetings] mute_on_entry_above`),
    or a host muted this person before they joined again."""
    audio_held: bool = False
    """A host muted this person: they may unmute only when a host asks."""


@dataclass(frozen=True, slots=True)
class Published:
    type: ClassVar[str] = "published"
    sdp: str
    tracks: list[TrackInfo]


@dataclass(frozen=True, slots=True)
class Offer:
    type: ClassVar[str] = "offer"
    sdp: str
    consumers: list[ConsumerInfo]


@dataclass(frozen=True, slots=True)
class ParticipantJoined:
    type: ClassVar[str] = "participant_joined"
    participant: ParticipantInfo


@dataclass(frozen=True, slots=True)
class ParticipantLeft:
    type: ClassVar[str] = "participant_left"
    participant_id: str
    username: str


@dataclass(frozen=True, slots=True)
class TrackPublished:
    type: ClassVar[str] = "track_published"
    track: TrackInfo


@dataclass(frozen=True, slots=True)
class TrackUnpublished:
    type: ClassVar[str] = "track_unpublished"
    producer_id: str
    participant_id: str


@dataclass(frozen=True, slots=True)
class TrackUnsupported:
    """This participant's browser cannot decode one of the tracks it was offered (it
    rejected that codec): that track is not shown; the others flow."""

    type: ClassVar[str] = "track_unsupported"
    producer_id: str
    participant_id: str
    kind: Kind
    source: Source


@dataclass(frozen=True, slots=True)
class MuteChanged:
    type: ClassVar[str] = "mute_changed"
    participant_id: str
    kind: Kind
    muted: bool


@dataclass(frozen=True, slots=True)
class ActiveSpeakerChanged:
    """Who is speaking now, by participant; None once everyone has been silent a while."""

    type: ClassVar[str] = "active_speaker"
    participant_id: str | None


@dataclass(frozen=True, slots=True)
class RecordingState:
    """Whether the meeting is being recorded; sent on join and on every change."""

    type: ClassVar[str] = "recording_state"
    recording: bool
    policy: str
    """automatic, on_demand or off."""
    reason: str | None = None
    """Why it is not recording: 'stopped', 'low_disk', 'refused_low_disk', 'error'."""
    can_control: bool = False
    """True when this participant may start and stop it."""


@dataclass(frozen=True, slots=True)
class ParticipantQuality:
    participant_id: str
    username: str
    state: str
    """good, warning or poor: the worst of the participant's streams."""


@dataclass(frozen=True, slots=True)
class Quality:
    """The network quality of every participant of the meeting, sent when one changes."""

    type: ClassVar[str] = "quality"
    participants: list[ParticipantQuality]


@dataclass(frozen=True, slots=True)
class Error:
    type: ClassVar[str] = "error"
    code: str
    title: str
    detail: str
    request: str | None = None
    """The type of the client message that caused it, when there was one."""
    fatal: bool = False
    """True when the server closes the socket after this error."""
    extra: dict[str, Any] = field(default_factory=dict)


ServerMessage: TypeAlias = (
    Welcome | Joined | Published | Offer | ParticipantJoined | ParticipantLeft
    | TrackPublished | TrackUnpublished | TrackUnsupported | MuteChanged | ActiveSpeakerChanged
    | RecordingState | Quality | TileOrder | Error | hp.HostServerMessage
    | cl.ChatLobbyServerMessage
)


def encode(message: ServerMessage) -> str:
    body = dataclasses.asdict(message)
    return json.dumps({"type": message.type, **body}, ensure_ascii=False)
