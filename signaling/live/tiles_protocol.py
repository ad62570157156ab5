"""The wire messages of tiles and their visibility (protocol v1, see protocol.py).

Client -> server: `visible`, the participants whose camera this page shows now, each
with a rough size. The server forwards only those cameras (and every screen share and
microphone) to this page.
Server -> client: `tile_order`, the meeting's tile order (signaling/live/last_n.py) and
how many tiles a page holds; sent on every change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from signaling.errors import InvalidMessage
from signaling.live.wire_fields import Choice, Entries

MAX_VISIBLE_TILES = 64
TILE_SIZES: tuple[str, ...] = ("small", "large")
TileSize = Literal["small", "large"]


def tile_participant(d: dict[str, Any], key: str) -> str:
    """A participant id: a string of 1 to 64 characters."""
    value = d.get(key)
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        raise InvalidMessage("'participant_id' must be a string of at most 64 characters")
    return value


@dataclass(frozen=True, slots=True)
class VisibleTile:
    participant_id: Annotated[str, tile_participant]
    size: Annotated[TileSize, Choice(TILE_SIZES)] = "small"
    """Roughly how large the page shows it: a grid tile, or the large view."""


@dataclass(frozen=True, slots=True)
class Visible:
    type: ClassVar[str] = "visible"
    tiles: Annotated[tuple[VisibleTile, ...], Entries(VisibleTile, MAX_VISIBLE_TILES)]


@dataclass(frozen=True, slots=True)
class TileOrder:
    type: ClassVar[str] = "tile_order"
    order: list[str]
    """Every participant id of the meeting, in tile order; the first page first."""
    per_page: int
    spotlight: str | None = None
    """The participant shown large for everyone, when there is one."""
