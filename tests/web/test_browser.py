"""A real browser (Debian's headless Chromium driven by Playwright) logs in and switches to 中文."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cxo.settings import Settings
from tests.web.conftest import PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_login_switch_to_chinese_and_see_the_translated_home(
    live_server: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    assert Path(CHROMIUM).exists(), "apt-get install chromium (make test installs it)"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page(locale="en-US")
            page.goto(f"{live_server}/customers")
            expect(page).to_have_url(f"{live_server}/login?next=/customers")
            page.get_by_label("User name").fill("analyst")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page).to_have_url(f"{live_server}/customers")
            expect(page.get_by_role("heading", level=1)).to_have_text("Customers")

            page.get_by_role("link", name="Home").click()
            expect(page.get_by_role("heading", level=1)).to_have_text(
                "Customer experience at a glance"
            )
            page.get_by_role("button", name="简体中文").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("客户体验概览")
            expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
            expect(page.get_by_role("link", name="客户之声")).to_be_visible()
            page.screenshot(path=str(tmp_path / "home-zh.png"), full_page=True)

            # Remembered: a new page in the same session stays in Chinese.
            page.goto(f"{live_server}/customers")
            expect(page.get_by_role("heading", level=1)).to_have_text("客户")
            page.get_by_role("button", name="退出登录").click()
            expect(page).to_have_url(f"{live_server}/login")
        finally:
            browser.close()


def test_respondent_answers_on_a_phone_with_the_keyboard(
    live_server: str, web_store: Settings, tmp_path: Path
) -> None:
    """A customer opens the invitation on a phone-sized screen, in Chinese, answers with the
    keyboard, sees a validation message, finishes, and the answers are stored."""
    import sqlalchemy as sa
    from playwright.sync_api import expect, sync_playwright

    from cxo.store.engine import connect
    from cxo.store.tables import answers
    from tests.web.test_surveys_web import _invite, _live

    token = _invite(web_store, _live(web_store), locale="zh_CN")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
            page.goto(f"{live_server}/s/{token}")
            expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
            expect(page.get_by_text("第 1 页，共 2 页")).to_be_visible()
            # Nothing answered: the error summary names the problems and takes focus.
            page.get_by_role("button", name="下一页").click()
            expect(page.get_by_role("alert")).to_be_visible()
            # Matrix rows by keyboard: focus a radio, move with the arrow keys.
            rows = page.locator("table.matrix tbody tr")
            for i in range(rows.count()):
                rows.nth(i).locator("input[type=radio]").first.focus()
                page.keyboard.press("ArrowRight")
            page.locator("input[name=nps][value='9']").check()
            page.screenshot(path=str(tmp_path / "respond-phone.png"), full_page=True)
            page.get_by_role("button", name="下一页").click()
            expect(page.get_by_text("第 2 页，共 2 页")).to_be_visible()
            page.get_by_role("textbox").fill("<b>网点</b>很好")
            page.get_by_role("button", name="提交").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("谢谢")
        finally:
            browser.close()
    with connect(web_store) as conn:
        stored = dict(
            conn.execute(
                sa.select(answers.c.item_code, answers.c.value_text).where(
                    answers.c.value_text.is_not(None)
                )
            ).all()
        )
        n = conn.execute(sa.select(sa.func.count()).select_from(answers)).scalar_one()
    assert stored == {"comment": "<b>网点</b>很好"} and n == 3 + 3 + 1 + 1
