"""Configuration loading: defaults, then TOML, then GIAOBAN_* overrides, then validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from signaling.config import Config, load_config
from signaling.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "giaoban.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file_or_environment() -> None:
    config = load_config(None, env={})
    assert config == Config()
    assert config.http.port == 8080
    assert config.licence.seats == 150
    assert config.timezone == "Asia/Ho_Chi_Minh"
    assert [room.id for room in config.rooms] == ["room-1", "room-2", "room-3"]
    assert config.sfu.ice_servers == []


def test_example_file_loads_and_matches_code_defaults() -> None:
    config = load_config(REPO / "configs" / "example.toml", env={})
    defaults = Config()
    assert config.http == defaults.http
    assert config.sfu == defaults.sfu
    assert config.licence == defaults.licence
    assert config.data_dir == defaults.data_dir
    assert [(r.id, r.capacity) for r in config.rooms] == [
        (r.id, r.capacity) for r in defaults.rooms
    ]


def test_file_overrides_defaults_and_keeps_the_rest(tmp_path: Path) -> None:
    path = write(tmp_path, '[http]\nport = 9000\n[licence]\nseats = 5\n')
    config = load_config(path, env={})
    assert config.http.port == 9000
    assert config.licence.seats == 5
    assert config.http.host == "127.0.0.1"
    assert config.data_dir == "data"


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[http]\nport = 9000\n')
    env = {
        "GIAOBAN_HTTP_PORT": "9100",
        "GIAOBAN_DATA_DIR": str(tmp_path / "d"),
        "GIAOBAN_HTTP_SECURE_COOKIES": "true",
        "GIAOBAN_SFU_ANNOUNCED_ADDRESSES": "10.0.0.5, 10.0.0.6",
    }
    config = load_config(path, env=env)
    assert config.http.port == 9100
    assert config.data_dir == str(tmp_path / "d")
    assert config.http.secure_cookies is True
    assert config.sfu.announced_addresses == ["10.0.0.5", "10.0.0.6"]


def test_process_environment_is_used_only_when_env_is_not_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GIAOBAN_HTTP_PORT", "9200")
    assert load_config(None, env={}).http.port == 8080
    assert load_config(None).http.port == 9200


def test_rooms_from_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[[rooms]]\nid = "hall"\nname = "Hội trường"\ncapacity = 80\n')
    config = load_config(path, env={})
    assert len(config.rooms) == 1
    assert (config.rooms[0].id, config.rooms[0].name, config.rooms[0].capacity) == (
        "hall", "Hội trường", 80,
    )


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("bogus = 1\n", "'bogus'"),
        ("[http]\nbogus = 1\n", "'http.bogus'"),
        ("[licence]\nseat = 3\n", "'licence.seat'"),
    ],
)
def test_unknown_key_is_named(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError, match="unknown key") as info:
        load_config(write(tmp_path, text), env={})
    assert key in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[http]\nport = "80"\n', "'http.port' must be a whole number"),
        ("[http]\nport = true\n", "'http.port' must be a whole number"),
        ('[http]\nsecure_cookies = "yes"\n', "'http.secure_cookies' must be true or false"),
        ("timezone = 7\n", "'timezone' must be a string"),
        ('[sfu]\nannounced_addresses = "10.0.0.1"\n', "'sfu.announced_addresses' must be a list"),
        ('http = "x"\n', "http: expected a table"),
    ],
)
def test_wrong_type_is_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), env={})
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[http]\nport = 70000\n", "'http.port'"),
        ("[licence]\nseats = 0\n", "'licence.seats'"),
        ("[login]\naccount_max_failures = 0\n", "'login.account_max_failures'"),
        ("[login]\nmax_sessions_per_account = 0\n", "'login.max_sessions_per_account'"),
        ("[login]\nlockout_minutes = -5\n", "'login.lockout_minutes'"),
        ("[login]\nwindow_minutes = 0\n", "'login.window_minutes'"),
        ('timezone = "Mars/Olympus"\n', "'timezone'"),
        ('language = "fr"\n', "'language'"),
        ('log_level = "loud"\n', "'log_level'"),
        ('data_dir = "  "\n', "'data_dir'"),
        ('[sfu]\nannounced_addresses = ["not-an-ip"]\n', "'sfu.announced_addresses[0]'"),
        ('[[sfu.ice_servers]]\nurls = ["http://x"]\n', "'sfu.ice_servers[0].urls'"),
        ("[sfu]\nconsent_timeout_seconds = 4\n", "'sfu.consent_timeout_seconds'"),
        ("[sfu]\nworker_wait_seconds = -1\n", "'sfu.worker_wait_seconds'"),
        ("[sfu]\nworker_consumer_limit = 0\n", "'sfu.worker_consumer_limit'"),
        ("[meetings]\nmute_on_entry_above = -1\n", "'meetings.mute_on_entry_above'"),
        ('[sfu]\nturn_secret = "s"\n', "'sfu.turn_secret'"),
        ('[sfu]\nturn_secret = "s"\n[[sfu.ice_servers]]\nurls = ["stun:10.0.0.9"]\n',
         "'sfu.turn_secret'"),
        ("[sfu]\nturn_credential_seconds = 59\n", "'sfu.turn_credential_seconds'"),
        ('[[sfu.ice_servers]]\nurls = ["turn:10.0.0.9"]\n', "'sfu.ice_servers[0]'"),
        ('[sfu]\nturn_secret = "s"\n[[sfu.ice_servers]]\nurls = ["turn:10.0.0.9"]\n'
         'username = "giaoban"\n', "'sfu.ice_servers[0]'"),
        ("[sfu]\nvideo_codecs = []\n", "'sfu.video_codecs'"),
        ('[sfu]\nvideo_codecs = ["VP9"]\n', "'sfu.video_codecs'"),
        ('[sfu]\nvideo_codecs = ["VP8", "VP8"]\n', "'sfu.video_codecs'"),
        (
            '[[rooms]]\nid = "a"\nname = "A"\n[[rooms]]\nid = "a"\nname = "B"\n',
            "'rooms[1].id'",
        ),
    ],
)
def test_invalid_value_is_named(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), env={})
    assert key in str(info.value)


def test_invalid_environment_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="GIAOBAN_HTTP_PORT") as info:
        load_config(None, env={"GIAOBAN_HTTP_PORT": "eighty"})
    assert "'http.port'" in str(info.value)


def test_environment_value_is_validated_after_override() -> None:
    with pytest.raises(ConfigError, match="'http.port' must be between 1 and 65535"):
        load_config(None, env={"GIAOBAN_HTTP_PORT": "0"})


def test_corrupt_toml(tmp_path: Path) -> None:
    path = write(tmp_path, "[http\nport = 1\n")
    with pytest.raises(ConfigError, match="is not valid TOML") as info:
        load_config(path, env={})
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "absent.toml", env={})


def test_derived_paths_and_zone(tmp_path: Path) -> None:
    config = load_config(None, env={"GIAOBAN_DATA_DIR": str(tmp_path)})
    assert config.database_path == tmp_path / "giaoban.sqlite3"
    assert config.tz.key == "Asia/Ho_Chi_Minh"


# ---------------------------------------------------------------- [quality]


def test_quality_section_reads_numbers_and_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "[quality]\npoor_audio_loss_percent = 8\nwarning_mos = 3.6\n"
                 'webhook_url = "http://10.0.0.9:9000/hook"\n')
    config = load_config(path, env={"GIAOBAN_QUALITY_ALERT_AFTER_SECONDS": "45",
                                    "GIAOBAN_QUALITY_WARNING_RTT_MS": "350.5"})
    assert config.quality.poor_audio_loss_percent == 8.0
    assert config.quality.warning_mos == 3.6
    assert config.quality.alert_after_seconds == 45
    assert config.quality.warning_rtt_ms == 350.5
    assert config.quality.webhook_url == "http://10.0.0.9:9000/hook"


@pytest.mark.parametrize(("text", "key"), [
    ("poor_audio_loss_percent = 120", "quality.poor_audio_loss_percent"),
    ("poor_audio_rtt_ms = -1", "quality.poor_audio_rtt_ms"),
    ('warning_mos = "high"', "quality.warning_mos"),
    ("warning_mos = 5.0", "quality.warning_mos"),
    ("warning_rtt_ms = 900", "quality.warning_rtt_ms"),
    ("warning_samples = 0", "quality.warning_samples"),
    ("alert_after_seconds = -5", "quality.alert_after_seconds"),
    ('webhook_url = "ftp://example/hook"', "quality.webhook_url"),
    ("webhook_retries = 11", "quality.webhook_retries"),
    ("report_max_bytes = 100", "quality.report_max_bytes"),
    ("retention_days = 0", "quality.retention_days"),
    ('metrics_token = "short"', "quality.metrics_token"),
    ("colour = 1", "quality.colour"),
])
def test_bad_quality_values_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(write(tmp_path, f"[quality]\n{text}\n"), env={})


def test_a_bad_number_in_the_environment_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="GIAOBAN_QUALITY_WARNING_MOS"):
        load_config(None, env={"GIAOBAN_QUALITY_WARNING_MOS": "lots"})


def test_example_file_documents_every_quality_key() -> None:
    import dataclasses

    from signaling.quality.settings import QualitySettings

    text = (REPO / "configs" / "example.toml").read_text(encoding="utf-8")
    section = text.split("[quality]", 1)[1].split("\n[", 1)[0]
    for f in dataclasses.fields(QualitySettings):
        assert f"\n{f.name} = " in section, f.name
    assert load_config(REPO / "configs" / "example.toml", env={}).quality == QualitySettings()


def test_a_turn_secret_with_a_turn_server_loads_and_may_come_from_the_environment(
        tmp_path: Path) -> None:
    text = '[sfu]\nturn_credential_seconds = 3600\n[[sfu.ice_servers]]\nurls = ["turn:10.0.0.9"]\n'
    config = load_config(write(tmp_path, text), env={"GIAOBAN_SFU_TURN_SECRET": "from-env"})
    assert config.sfu.turn_secret == "from-env"
    assert config.sfu.turn_credential_seconds == 3600
    assert load_config(None, env={}).sfu.turn_credential_seconds == 12 * 3600
    static = '[[sfu.ice_servers]]\nurls = ["turn:10.0.0.9"]\nusername = "u"\ncredential = "c"\n'
    assert load_config(write(tmp_path, static), env={}).sfu.ice_servers[0].credential == "c"


def test_video_codecs_default_and_order(tmp_path: Path) -> None:
    assert load_config(None, env={}).sfu.video_codecs == ["VP8", "H264"]
    config = load_config(write(tmp_path, '[sfu]\nvideo_codecs = ["H264", "VP8"]\n'), env={})
    assert config.sfu.video_codecs == ["H264", "VP8"]
    assert load_config(None, env={"GIAOBAN_SFU_VIDEO_CODECS": "H264"}).sfu.video_codecs == [
        "H264"]
