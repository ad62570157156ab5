"""The wire protocol's messages for running a meeting: raised hands and host controls.

Client -> server: raise_hand, unmute_answer (anyone in the meeting); mute_participant,
mute_all, ask_unmute, stop_video, lower_hand, lower_all_hands, remove_participant,
spotlight, end_meeting, make_cohost (hosts only; signaling/accounts/permissions.py).
Server -> client: hands, host_changed, host_action, spotlight, unmute_answered.

A removed participant gets a fatal `error` with code `removed`; everyone gets one with
code `meeting_ended` when a host ends the meeting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, TypeAlias

from signaling.live.wire_fields import Choice, Flag, Text

VideoSource = Literal["camera", "screen"]
VIDEO_SOURCES: tuple[str, ...] = ("camera", "screen")
HostActionKind = Literal["muted", "camera_stopped", "screen_stopped", "unmute_requested",
                         "hand_lowered"]

ParticipantField = Annotated[str, Text(max_len=64)]
VideoSourceField = Annotated[VideoSource, Choice(VIDEO_SOURCES)]


# ---------------------------------------------------------------- client -> server
# Each is read by signaling/live/wire_fields.py's parse_fields.


@dataclass(frozen=True, slots=True)
class RaiseHand:
    """Raise (or lower) one's own hand."""

    type: ClassVar[str] = "raise_hand"
    raised: Annotated[bool, Flag()]


@dataclass(frozen=True, slots=True)
class UnmuteAnswer:
    """The answer to a host's request to unmute: accepted unmutes the microphone."""

    type: ClassVar[str] = "unmute_answer"
    accepted: Annotated[bool, Flag()]


@dataclass(frozen=True, slots=True)
class MuteParticipant:
    type: ClassVar[str] = "mute_participant"
    participant_id: ParticipantField


@dataclass(frozen=True, slots=True)
class MuteAll:
    """Mute every participant who is not a host."""

    type: ClassVar[str] = "mute_all"


@dataclass(frozen=True, slots=True)
class AskUnmute:
    """Ask a muted participant to unmute; only a request, which they accept or decline."""

    type: ClassVar[str] = "ask_unmute"
    participant_id: ParticipantField


@dataclass(frozen=True, slots=True)
class StopVideo:
    """Stop a participant's camera or screen share (never start one)."""

    type: ClassVar[str] = "stop_video"
    participant_id: ParticipantField
    source: VideoSourceField


@dataclass(frozen=True, slots=True)
class LowerHand:
    type: ClassVar[str] = "lower_hand"
    participant_id: ParticipantField


@dataclass(frozen=True, slots=True)
class LowerAllHands:
    type: ClassVar[str] = "lower_all_hands"


@dataclass(frozen=True, slots=True)
class RemoveParticipant:
    """Take a participant out; they may not join this meeting again."""

    type: ClassVar[str] = "remove_participant"
    participant_id: ParticipantField


@dataclass(frozen=True, slots=True)
class Spotlight:
    """Show one participant's camera or screen large for everyone; None releases it."""

    type: ClassVar[str] = "spotlight"
    participant_id: Annotated[str | None, Text(max_len=64, optional=True)]
    source: VideoSourceField = "camera"


@dataclass(frozen=True, slots=True)
class EndMeeting:
    type: ClassVar[str] = "end_meeting"


@dataclass(frozen=True, slots=True)
class MakeCohost:
    """Name (or drop) a co-host live; only an owner (organizer, leader, secretary, admin)."""

    type: ClassVar[str] = "make_cohost"
    participant_id: ParticipantField
    cohost: Annotated[bool, Flag()]


HostControl: TypeAlias = (MuteParticipant | MuteAll | AskUnmute | StopVideo | LowerHand
                          | LowerAllHands | RemoveParticipant | Spotlight | EndMeeting
                          | MakeCohost)
HostMessage: TypeAlias = RaiseHand | UnmuteAnswer | HostControl
HOST_CONTROLS = (MuteParticipant, MuteAll, AskUnmute, StopVideo, LowerHand, LowerAllHands,
                 RemoveParticipant, Spotlight, EndMeeting, MakeCohost)
HOST_CLIENT_MESSAGES: tuple[Any, ...] = (
    RaiseHand, UnmuteAnswer, MuteParticipant, MuteAll, AskUnmute, StopVideo, LowerHand,
    LowerAllHands, RemoveParticipant, Spotlight, EndMeeting, MakeCohost)


# ---------------------------------------------------------------- server -> client


@dataclass(frozen=True, slots=True)
class HandInfo:
    participant_id: str
    raised_at: str
    """When the hand went up, ISO 8601 UTC."""


@dataclass(frozen=True, slots=True)
class SpotlightInfo:
    participant_id: str
    source: VideoSource


@dataclass(frozen=True, slots=True)
class Hands:
    """The raised hands, first raised first; sent to everyone on every change."""

    type: ClassVar[str] = "hands"
    queue: list[HandInfo]


@dataclass(frozen=True, slots=True)
class HostChanged:
    type: ClassVar[str] = "host_changed"
    participant_id: str
    host: bool


@dataclass(frozen=True, slots=True)
class HostAction:
    """What a host did to this participant (muted them, stopped their camera, ...)."""

    type: ClassVar[str] = "host_action"
    action: HostActionKind
    by: str
    """The host's display name."""


@dataclass(frozen=True, slots=True)
class SpotlightChanged:
    type: ClassVar[str] = "spotlight"
    spotlight: SpotlightInfo | None


@dataclass(frozen=True, slots=True)
class UnmuteAnswered:
    """Sent to the hosts: how a participant answered the request to unmute."""

    type: ClassVar[str] = "unmute_answered"
    participant_id: str
    accepted: bool


HostServerMessage: TypeAlias = Hands | HostChanged | HostAction | SpotlightChanged | UnmuteAnswered

