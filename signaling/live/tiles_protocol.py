"""The wire messages of tiles and their visibility (protocol v1, see protocol.py).

Client -> server: `visible`, the participants whose camera this page shows now, each
with a rough size. The server forwards only those cameras (and every screen share and
microphone) to this page.
Server -> client: `tile_order`, the meeting's tile order (signaling/live/last_n.py) and
how many tiles a page holds; sent on every change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from signaling.errors import InvalidMessage

MAX_VISIBLE_TILES = 64
TILE_SIZES: tuple[str, ...] = ("small", "large")
TileSize = Literal["small", "large"]


@dataclass(frozen=True, slots=True)
class VisibleTile:
    participant_id: str
    size: TileSize
    """Roughly how large the page shows it: a grid tile, or the large view."""

    @classmethod
    def parse(cls, d: Any) -> VisibleTile:
        if not isinstance(d, dict):
            raise InvalidMessage("each entry of 'tiles' must be an object")
        participant_id = d.get("participant_id")
        if not isinstance(participant_id, str) or not 0 < len(participant_id) <= 64:
            raise InvalidMessage("'participant_id' must be a string of at most 64 characters")
        size = d.get("size", "small")
        if size not in TILE_SIZES:
            raise InvalidMessage(f"'size' must be one of {', '.join(TILE_SIZES)}")
        return cls(participant_id=participant_id, size=size)


@dataclass(frozen=True, slots=True)
class Visible:
    type: ClassVar[str] = "visible"
    tiles: tuple[VisibleTile, ...]

    @classmethod
    def parse(cls, d: dict[str, Any]) -> Visible:
        tiles = d.get("tiles")
        if not isinstance(tiles, list) or len(tiles) > MAX_VISIBLE_TILES:
            raise InvalidMessage(f"'tiles' must be a list of at most {MAX_VISIBLE_TILES}")
        return cls(tiles=tuple(VisibleTile.parse(t) for t in tiles))


@dataclass(frozen=True, slots=True)
class TileOrder:
    type: ClassVar[str] = "tile_order"
    order: list[str]
    """Every participant id of the meeting, in tile order; the first page first."""
    per_page: int
    spotlight: str | None = None
    """The participant shown large for everyone, when there is one."""
