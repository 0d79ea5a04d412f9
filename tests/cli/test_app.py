"""`agentwatch app`: registered, bound to 127.0.0.1, headless, no usage statistics, the app's own script.
(The browser tests start it for real: tests/app/test_browser.py.)"""

from __future__ import annotations

from click.testing import CliRunner

from agentwatch.cli import cli
from agentwatch.cli.app import app_file, streamlit_command


def flag(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_the_server_is_local_headless_and_sends_no_statistics() -> None:
    command = streamlit_command(8600)
    assert command[1:5] == ["-m", "streamlit", "run", str(app_file())]
    assert flag(command, "--server.address") == "127.0.0.1"
    assert flag(command, "--server.port") == "8600"
    assert flag(command, "--server.headless") == "true"
    assert flag(command, "--browser.gatherUsageStats") == "false"
    assert flag(command, "--server.enableXsrfProtection") == "true"
    assert app_file().is_file() and app_file().name == "streamlit_app.py"


def test_app_is_a_command_with_a_port_option() -> None:
    result = CliRunner().invoke(cli, ["app", "--help"])
    assert result.exit_code == 0 and "--port" in result.output and "127.0.0.1" in result.output


def test_a_port_that_is_not_a_number_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["app", "--port", "eighty"])
    assert result.exit_code == 2 and "eighty" in result.output
