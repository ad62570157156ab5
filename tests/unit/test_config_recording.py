"""The [recording] section: defaults, the example file, overrides and bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from signaling.config import Config, RecordingSettings, load_config
from signaling.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_defaults_and_example_file_agree() -> None:
    assert load_config(None, env={}).recording == RecordingSettings()
    assert load_config(REPO / "configs" / "example.toml", env={}).recording == RecordingSettings()
    defaults = RecordingSettings()
    assert (defaults.default_policy, defaults.compose_layout) == ("automatic", "grid")


def test_directory_defaults_under_the_data_directory(tmp_path: Path) -> None:
    config = Config(data_dir=str(tmp_path / "data"))
    assert config.recording_path == (tmp_path / "data" / "recordings").absolute()
    moved = load_config(None, env={"GIAOBAN_RECORDING_DIRECTORY": str(tmp_path / "rec"),
                                   "GIAOBAN_RECORDING_SEGMENT_SECONDS": "5"})
    assert moved.recording_path == tmp_path / "rec" and moved.recording.segment_seconds == 5


@pytest.mark.parametrize(("toml", "key"), [
    ('default_policy = "sometimes"', "recording.default_policy"),
    ("segment_seconds = 1", "recording.segment_seconds"),
    ("segment_seconds = 301", "recording.segment_seconds"),
    ('segment_seconds = "10"', "recording.segment_seconds"),
    ("min_free_mb = -1", "recording.min_free_mb"),
    ("retention_days = -5", "recording.retention_days"),
    ('compose_layout = "mosaic"', "recording.compose_layout"),
    ("colour = true", "recording.colour"),
])
def test_bad_values_name_their_key(tmp_path: Path, toml: str, key: str) -> None:
    path = tmp_path / "giaoban.toml"
    path.write_text(f"[recording]\n{toml}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(path, env={})


def test_bad_environment_override_names_the_key() -> None:
    with pytest.raises(ConfigError, match="recording.min_free_mb"):
        load_config(None, env={"GIAOBAN_RECORDING_MIN_FREE_MB": "lots"})
