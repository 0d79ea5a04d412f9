"""Hostile event text through every page: a markdown image and link pointing at a canary HTTP server
on 127.0.0.1, HTML with script, a bidi override and ANSI escapes, planted in every text field of a
session (agent and session ids too) and in everything the detectors wrote about it. Chromium renders
each page; the canary must get no request, no script may run, no image or link may point at it, and
the text must show with its control characters escaped. AppTest checks the same structurally: no
element that renders markdown carries the hostile text."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.app_lake import INVENTORY, SAMPLE, add_detections, hostile_text, measured_lake, write_hostile_session
from tests.app.browser_support import chromium, served_app, settle
from tests.support.paths import ROOT

APP = ROOT / "app" / "streamlit_app.py"
# elements whose text Streamlit renders as markdown: none may carry event text
MARKDOWN_ELEMENTS = ("markdown", "caption", "info", "warning", "error", "success", "title", "header", "subheader")


class Canary:
    """An HTTP server on 127.0.0.1 that records every request it gets."""

    def __init__(self) -> None:
        hits: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.hits = hits
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Canary:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    with Canary() as server:
        yield server


@pytest.fixture(scope="module")
def hostile_lake(tmp_path_factory: pytest.TempPathFactory, canary: Canary) -> tuple[Path, str, str]:
    root = tmp_path_factory.mktemp("hostile")
    agent, session = write_hostile_session(root / "input", canary.url)
    lake = measured_lake(root / "lake", [root / "input", SAMPLE / "native" / "cicd-assistant"])
    add_detections(lake, text=hostile_text(canary.url))
    return lake, agent, session


def test_the_canary_answers_when_something_does_fetch_it(canary: Canary) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{canary.url}/self-check") as response:
        assert response.status == 204
    assert canary.hits.pop() == "/self-check"


def test_hostile_text_reached_the_lake_and_was_flagged(hostile_lake) -> None:
    from agentwatch.lake import Lake

    lake, agent, session = hostile_lake
    con = Lake(lake).connect()
    (flagged,) = con.execute("select flagged from sessions where agent_id = ? and session_id = ?",
                             [agent, session]).fetchone()
    assert flagged
    flags = {f for (fs,) in con.execute("select flags from events where session_id = ?", [session]).fetchall()
             for f in fs}
    assert {"ansi_escape", "markdown_link_payload"} <= flags


def page_urls(url: str, agent: str, session: str) -> dict[str, str]:
    return {
        "fleet": url, "flagged": f"{url}/flagged", "rules": f"{url}/rules", "hunt": f"{url}/hunt",
        "session": f"{url}/session?agent={quote(agent, safe='')}&session={quote(session, safe='')}",
    }


def test_no_page_fetches_the_canary_runs_script_or_builds_links_from_event_text(
        hostile_lake, canary: Canary, tmp_path: Path) -> None:
    lake, agent, session = hostile_lake
    canary.hits.clear()
    home = tmp_path / "home"
    home.mkdir()
    with served_app(lake, INVENTORY, home) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 4000})
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url) if canary.url in r.url else None)
        shown: dict[str, str] = {}
        for name, address in page_urls(url, agent, session).items():
            page.goto(address)
            settle(page)
            if name == "flagged":  # open the alert picker so its options (agent and session ids) render
                page.get_by_role("combobox", name="Alert").click()
                page.wait_for_timeout(500)
                shown["options"] = " ".join(page.get_by_role("option").all_inner_texts())
                page.keyboard.press("Escape")
            if name == "hunt":
                page.get_by_role("combobox", name="Saved hunt").click()
                page.get_by_role("option", name="Events carrying hostile text", exact=False).click()
                settle(page)
                page.get_by_role("button", name="Run").click()
                settle(page)
            page.mouse.wheel(0, 4000)
            page.wait_for_timeout(300)
            assert page.evaluate("window.__pwned") is None, name
            assert page.locator(f"img[src*='{canary.url}'], a[href*='{canary.url}'], script:not([src])").filter(
                has_text="__pwned").count() == 0, name
            assert page.locator(f"img[src*='{canary.url}']").count() == 0, name
            assert page.locator(f"a[href*='{canary.url}']").count() == 0, name
            shown[name] = " ".join(page.locator("[data-testid='stCode']").all_inner_texts())
        page.wait_for_timeout(1000)  # anything lazy would have fired by now
    assert canary.hits == [] and requested == []
    # the hostile text is on screen, inert: the markup as literal text, controls as escapes
    assert "![pixel](" in shown["session"] and "<script>" in shown["session"]
    assert "\\u202e" in shown["session"] and "\\u001b[31m" in shown["flagged"]  # the alert's title
    for name, text in shown.items():
        assert "\u202e" not in text and "\x1b" not in text and "\x07" not in text, name
    assert "evil-agent" in shown["options"] and "\\u202e" in shown["options"] and "\u202e" not in shown["options"]


@pytest.mark.parametrize("page", ["fleet", "flagged", "session", "rules", "hunt"])
def test_no_markdown_element_carries_event_text(monkeypatch, hostile_lake, canary: Canary, page: str) -> None:
    lake, agent, session = hostile_lake
    monkeypatch.setenv("AGENTWATCH_LAKE", str(lake))
    monkeypatch.setenv("AGENTWATCH_INVENTORY", str(INVENTORY))
    at = AppTest.from_file(str(APP), default_timeout=60)
    if page == "session":
        at.query_params.update({"agent": agent, "session": session})
    at.run()
    if page != "fleet":
        at.switch_page(f"app_pages/{page}.py").run()
    if page == "hunt":
        at.selectbox[0].set_value(next(h for h in at.selectbox[0].options if h.startswith("Events carrying")))
        at.run()
        [run] = [b for b in at.button if b.label == "Run"]
        run.click().run()
    assert not at.exception, [e.value for e in at.exception]
    host = canary.url.removeprefix("http://")
    for kind in MARKDOWN_ELEMENTS:
        for element in at.get(kind):
            assert host not in str(element.value) and "<script>" not in str(element.value), (kind, element.value)
    labels = [w.label for kind in ("selectbox", "multiselect", "text_input", "text_area", "button", "radio",
                                   "toggle", "metric") for w in at.get(kind)]
    assert all(host not in label for label in labels)
    shown = " ".join(str(c.value) for c in at.code) + " ".join(d.value.to_csv() for d in at.dataframe)
    assert host in shown  # the hostile text is shown, as plain text
