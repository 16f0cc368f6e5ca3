"""The workspace in a real browser: Debian's Chromium driven by Playwright.

A small demo program is generated, imported and refreshed, served by uvicorn on a free port, and
an operator walks through it: sign in, overview, a group, a member, finish an inbox task, search in
Chinese, switch the language. Screenshots of every step are kept in `artifacts/screenshots/`
(`SHEQUN_ARTIFACTS` moves them). Chromium comes from Debian (`/usr/bin/chromium`); Playwright's own
browser download is never used.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("SHEQUN_ARTIFACTS", Path(__file__).parents[2] / "artifacts"))
SHOTS = ARTIFACTS / "screenshots"
PASSWORD = "a browser test password"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[str]:
    """A demo program, refreshed, served on 127.0.0.1; yields the base URL."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium (see .ci/run)")
        pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium")
    import uvicorn

    from shequn.demo.run import run_demo
    from shequn.store import users
    from shequn.store.db import make_engine, upgrade
    from shequn.web.app import create_app
    from shequn.workspace import refresh_workspace

    work = tmp_path_factory.mktemp("browser")
    store = make_engine(f"sqlite:///{work / 'shequn.db'}")
    upgrade(store)
    run_demo(store, out_dir=work / "exports", messages=4000)
    refresh_workspace(store)
    users.create_user(store, username="olivia", password=PASSWORD, role="operator", lang="en")
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    store.dispose()


@pytest.fixture(scope="module")
def browser(served):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module", autouse=True)
def fresh_shots():
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True, exist_ok=True)


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_operator_walkthrough(served, browser):
    page = browser.new_page(locale="en-US", viewport={"width": 1360, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    # sign in
    page.goto(f"{served}/")
    assert "/login" in page.url
    page.fill("input[name=username]", "olivia")
    page.fill("input[name=password]", PASSWORD)
    shot(page, "01-login")
    page.click("button[type=submit]")
    page.wait_for_load_state()

    # overview: every demo group is listed with a link
    groups = page.locator("a[href^='/groups/']")
    assert groups.count() >= 10
    shot(page, "02-overview")

    # a group, with its charts drawn by ECharts (SVG renderer)
    groups.first.click()
    page.wait_for_load_state()
    assert "/groups/" in page.url
    page.wait_for_selector(".chart svg", timeout=10_000)
    shot(page, "03-group")

    # a member of that group
    member = page.locator("a[href^='/people/']").first
    member.click()
    page.wait_for_load_state()
    assert "/people/" in page.url
    shot(page, "04-member")

    # the inbox: finish the first open task
    page.goto(f"{served}/inbox")
    tasks = page.locator("article.task-item")
    assert tasks.count() >= 1
    task_id = tasks.first.get_attribute("id")
    shot(page, "05-inbox")
    tasks.first.locator("button[data-action=done]").click()
    # htmx swaps the row in place with its new status
    page.wait_for_selector(f"#{task_id}[data-status=done]", timeout=10_000)
    shot(page, "06-inbox-done")
    page.goto(f"{served}/inbox")
    assert page.locator(f"#{task_id}").count() == 0
    page.goto(f"{served}/inbox?status=done")
    assert page.locator(f"#{task_id}").count() == 1

    # search the archive in Chinese
    page.goto(f"{served}/search")
    page.fill("input[name=q]", "打卡")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "q=" in page.url
    hits = page.locator("mark")
    assert hits.count() >= 1
    assert "打卡" in page.content()
    shot(page, "07-search-zh")

    # switch the interface to Chinese, and it stays so
    with page.expect_navigation():
        page.click("#switch-lang")
    assert "总览" in page.inner_text("header")
    page.goto(f"{served}/")
    assert "总览" in page.inner_text("header")
    shot(page, "08-overview-zh")

    assert not errors, errors
    page.close()
