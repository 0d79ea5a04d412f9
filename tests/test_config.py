"""Settings: every one is documented in the README; precedence is flag > env > file > default."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentwatch.config import SETTINGS, load_settings
from agentwatch.errors import ConfigError
from tests.support.paths import ROOT

README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented(setting) -> None:
    assert f"| `{setting.name}` | `{setting.env}` |" in README


def test_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "agentwatch.toml"
    config.write_text('lake = "/from/file"\nreceiver_port = 9000\nmemory_limit = "2GB"\n')
    monkeypatch.setenv("AGENTWATCH_RECEIVER_PORT", "9100")
    got = load_settings(str(config), {"lake": "/from/flag", "inventory": None})
    assert (got["lake"], got["receiver_port"], got["memory_limit"], got["inventory"]) == (
        "/from/flag", 9100, "2GB", "")


def test_bad_config_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("lakes = 1\n")
    with pytest.raises(ConfigError, match=r"unknown settings \['lakes'\].* in .*bad.toml"):
        load_settings(str(config))
    with pytest.raises(ConfigError, match="config file not found in .*missing.toml"):
        load_settings(str(tmp_path / "missing.toml"))
