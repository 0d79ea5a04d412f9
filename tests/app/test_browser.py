"""End to end in a real browser: Debian's Chromium (Playwright) against `agentwatch app` on a free
127.0.0.1 port. From the triage queue to a flagged session's investigation, an acknowledgement
recorded in the lake, what each page shows, screenshots of every page; then the server stops."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import pytest

from agentwatch.lake import Lake
from tests.app.app_lake import INVENTORY, add_detections, measured_lake
from tests.app.browser_support import chromium, served_app, settle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    lake = measured_lake(tmp_path / "lake")
    add_detections(lake)
    return lake


def shots_dir(tmp_path: Path) -> Path:
    """Where screenshots go: AGENTWATCH_SCREENSHOTS (to refresh docs/img), else the test's folder."""
    folder = Path(os.environ.get("AGENTWATCH_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_triage_to_investigation_to_acknowledgement_in_chromium(lake: Path, tmp_path: Path) -> None:
    con = Lake(lake).connect()
    top = con.execute("select alert_key, agent_id, session_id from alerts where status <> 'closed' "
                      "order by risk_score desc nulls last, last_seen_at desc, alert_key limit 1").fetchone()
    events = con.execute("select count(*) from events where agent_id = ? and session_id = ?", top[1:]).fetchone()[0]
    shots = shots_dir(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    with served_app(lake, INVENTORY, home) as url, chromium() as browser:
        port = int(url.rsplit(":", 1)[1])
        page = browser.new_page(viewport={"width": 1400, "height": 1700})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        page.goto(url)
        settle(page)
        assert page.get_by_role("heading", name="Fleet").is_visible()
        assert page.locator("[data-testid='stVegaLiteChart']").count() == 3
        page.screenshot(path=shots / "fleet.png")

        page.get_by_role("link", name="Flagged sessions").click()
        settle(page)
        picker = page.get_by_role("combobox", name="Alert")
        assert top[2] in picker.input_value() and "· new ·" in picker.input_value()
        page.screenshot(path=shots / "flagged.png")

        page.get_by_role("button", name="Investigate this session").click()
        page.wait_for_url(re.compile(r"/session\?"))
        settle(page)
        assert page.get_by_role("heading", name="Session investigation").is_visible()
        assert page.get_by_role("combobox", name="Session").input_value() == f"{top[1]} · {top[2]}"
        assert page.get_by_text(f"{events} of {events} events;").is_visible()
        assert page.locator("[data-testid='stVegaLiteChart']").count() == 2
        page.screenshot(path=shots / "session.png")

        page.get_by_role("link", name="Flagged sessions").click()
        settle(page)
        page.get_by_label("Analyst").fill("ana")
        page.get_by_label("Note").fill("checked with the owner: a planned cleanup")
        page.get_by_role("button", name="Record decision").click()
        settle(page)
        assert page.get_by_text("Decision recorded in the lake's alert state.").is_visible()
        state = page.locator("[data-testid='stCode']").all_inner_texts()
        assert any("status: acknowledged by ana" in t and "a planned cleanup" in t for t in state), state

        page.get_by_role("link", name="Rules and alerts").click()
        settle(page)
        assert page.get_by_text("1 agent(s) paused").is_visible()
        page.screenshot(path=shots / "rules.png")

        page.get_by_role("link", name="SQL hunt").click()
        settle(page)
        page.get_by_role("combobox", name="Saved hunt").click()
        page.get_by_role("option", name="Sessions that drifted furthest from what the humans asked").click()
        settle(page)
        page.get_by_role("button", name="Run").click()
        settle(page)
        assert page.get_by_text("50 rows.").is_visible()
        assert page.get_by_role("button", name="Download CSV").is_visible()
        page.screenshot(path=shots / "hunt.png")
        assert errors == []

    state = Lake(lake).connect().execute(
        "select status, status_by, status_note from alerts where alert_key = ?", [top[0]]).fetchone()
    assert state == ("acknowledged", "ana", "checked with the owner: a planned cleanup")
    for name in ("fleet", "flagged", "session", "rules", "hunt"):
        assert (shots / f"{name}.png").read_bytes()[:8] == PNG
    with socket.socket() as s:  # the server is gone
        assert s.connect_ex(("127.0.0.1", port)) != 0
