"""The `visible` message and the tiles_per_page setting: typed, validated, clearly refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from signaling.config import Config, ConfigError, load_config
from signaling.errors import InvalidMessage
from signaling.live import protocol as p
from signaling.live.tiles_protocol import MAX_VISIBLE_TILES, TileOrder, Visible, VisibleTile


def parse(obj: object) -> p.ClientMessage:
    return p.parse_client_message(json.dumps(obj))


def test_visible_parses_with_sizes() -> None:
    message = parse({"type": "visible", "tiles": [
        {"participant_id": "pa-1", "size": "large"}, {"participant_id": "pa-2"}]})
    assert message == Visible(tiles=(VisibleTile("pa-1", "large"), VisibleTile("pa-2", "small")))
    assert parse({"type": "visible", "tiles": []}) == Visible(tiles=())


@pytest.mark.parametrize(("body", "reason"), [
    ({}, "'tiles' must be a list"),
    ({"tiles": "pa-1"}, "'tiles' must be a list"),
    ({"tiles": [{"participant_id": "x"}] * (MAX_VISIBLE_TILES + 1)}, "at most 64"),
    ({"tiles": ["pa-1"]}, "must be an object"),
    ({"tiles": [{"participant_id": ""}]}, "'participant_id'"),
    ({"tiles": [{"participant_id": 5}]}, "'participant_id'"),
    ({"tiles": [{"participant_id": "x" * 65}]}, "'participant_id'"),
    ({"tiles": [{"participant_id": "pa-1", "size": "huge"}]}, "'size' must be one of"),
])
def test_bad_visible_messages_are_refused_with_a_reason(body: dict[str, object],
                                                        reason: str) -> None:
    with pytest.raises(InvalidMessage, match=reason):
        parse({"type": "visible", **body})


def test_tile_order_encodes() -> None:
    text = p.encode(TileOrder(order=["pa-1", "pa-2"], per_page=4))
    assert json.loads(text) == {"type": "tile_order", "order": ["pa-1", "pa-2"],
                                "per_page": 4, "spotlight": None}


def test_tiles_per_page_defaults_to_nine_and_is_checked(tmp_path: Path) -> None:
    assert Config().meetings.tiles_per_page == 9
    loaded = load_config(None, env={"GIAOBAN_MEETINGS_TILES_PER_PAGE": "4"})
    assert loaded.meetings.tiles_per_page == 4
    bad = tmp_path / "bad.toml"
    for value in (0, 50):
        bad.write_text(f"[meetings]\ntiles_per_page = {value}\n", encoding="utf-8")
        with pytest.raises(ConfigError, match="'meetings.tiles_per_page'"):
            load_config(bad, env={})
