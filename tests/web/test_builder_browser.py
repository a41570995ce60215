"""The survey builder's form view in a real browser (headless Chromium driven by Playwright).

An analyst builds a survey with forms only and the stored definition is exactly what was built;
editing it again makes a new version; a survey with features the form has no field for comes back
unchanged; the emitted YAML reads back as the same data; the form speaks 简体中文 on a phone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from cxo.settings import Settings
from cxo.store.engine import connect
from cxo.surveys import service
from tests.web.conftest import PASSWORD
from tests.web.test_browser import CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@contextmanager
def _page(base: str, *, locale: str = "en-US", width: int = 1280) -> Iterator[Any]:
    """A logged-in analyst's page; fails the test on any script error in the page."""
    from playwright.sync_api import expect, sync_playwright

    assert Path(CHROMIUM).exists(), "apt-get install chromium (make test installs it)"
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": width, "height": 900}, locale=locale)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/login")
            page.locator("#username").fill("analyst")
            page.locator("#password").fill(PASSWORD)
            page.locator("button.primary[type=submit]").click()
            expect(page.locator("h1")).to_be_visible()
            yield page
        finally:
            browser.close()
    assert not errors, errors


def _spec(settings: Settings, code: str, version: int | None = None) -> dict[str, Any]:
    with connect(settings) as conn:
        return service.get_survey(conn, code, version).spec


def _texts(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh_CN": zh}


def _fill_texts(scope: Any, label: str, en: str, zh: str) -> None:
    scope.get_by_label(f"{label} (English)", exact=True).fill(en)
    scope.get_by_label(f"{label} (简体中文)", exact=True).fill(zh)


def _add(page_region: Any, what: str) -> Any:
    """Add a question to a page from the "Add a question" list; the new question's fieldset."""
    questions = page_region.locator("fieldset.question")
    n = questions.count()
    page_region.get_by_label("Add a question").select_option(label=what)
    page_region.get_by_role("button", name="Add", exact=True).click()
    return questions.nth(n)


BUILT = {
    "code": "branch_pulse",
    "title": _texts("Branch pulse", "网点脉搏"),
    "pages": [
        {
            "title": _texts("Your visit", "您的到访"),
            "randomize": True,
            "questions": [
                {"use": "nps", "required": True},
                {
                    "code": "visit_reason",
                    "type": "single",
                    "text": _texts("Why did you come?", "您为什么来？"),
                    "required": True,
                    "options": [
                        {"value": 1, "label": _texts("A question", "咨询")},
                        {"value": 2, "label": _texts("A problem", "问题")},
                        {"value": 3, "label": _texts("Other", "其他")},
                    ],
                },
                {
                    "code": "channels",
                    "type": "multiple",
                    "text": _texts("Which channels?", "哪些渠道？"),
                    "options": [
                        {"value": 1, "label": _texts("Branch", "网点")},
                        {"value": 2, "label": _texts("App", "手机银行")},
                    ],
                },
                {
                    "code": "staff",
                    "type": "rating",
                    "text": _texts("How were our staff?", "员工表现如何？"),
                    "min": 1,
                    "max": 5,
                    "labels": {"1": _texts("Poor", "差")},
                },
                {
                    "code": "share",
                    "type": "slider",
                    "text": _texts("Share of your banking (%)", "在我行的业务占比（%）"),
                    "min": 0,
                    "max": 100,
                    "step": 5,
                },
                {
                    "code": "branch",
                    "type": "matrix",
                    "text": _texts("Rate the branch", "评价网点"),
                    "min": 1,
                    "max": 5,
                    "rows": [
                        {"code": "branch_wait", "text": _texts("Waiting time", "等候时间")},
                        {"code": "branch_clean", "text": _texts("Cleanliness", "整洁程度")},
                    ],
                },
            ],
        },
        {
            "questions": [
                {
                    "code": "suggestion",
                    "type": "text",
                    "text": _texts("What should we fix?", "我们应该改进什么？"),
                    "show_if": {"question": "nps", "op": "le", "value": 6},
                }
            ]
        },
    ],
}


def test_build_a_survey_with_forms_only_then_edit_it_into_a_new_version(
    live_server: str, web_store: Settings, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with _page(live_server) as page:
        page.goto(f"{live_server}/surveys/new")
        expect(page.get_by_role("button", name="Form", exact=True)).to_have_attribute(
            "aria-pressed", "true"
        )
        expect(page.locator("#definition")).to_be_hidden()

        survey = page.get_by_role("region", name="Survey", exact=True)
        survey.get_by_label("Code", exact=True).fill("branch_pulse")
        _fill_texts(survey, "Title", "Branch pulse", "网点脉搏")
        _fill_texts(survey, "Introduction", "", "")
        _fill_texts(survey, "Thank-you message", "", "")

        # The starter's pages go; page 1 is rebuilt from scratch.
        page.get_by_role("region", name="Page 3").get_by_role("button", name="Delete page").click()
        page.get_by_role("region", name="Page 2").get_by_role("button", name="Delete page").click()
        expect(page.get_by_role("status")).to_have_text("Page deleted.")
        p1 = page.get_by_role("region", name="Page 1")
        p1.locator("fieldset.question").first.get_by_role(
            "button", name="Delete", exact=True
        ).click()
        expect(p1.locator("fieldset.question")).to_have_count(0)
        _fill_texts(p1, "Page title", "Your visit", "您的到访")
        p1.get_by_label("Show this page's questions in random order").check()

        nps = _add(p1, "Net Promoter Score")
        expect(nps.get_by_label("Required")).to_be_focused()  # focus follows the new question
        nps.get_by_label("Required").check()

        single = _add(p1, "Single choice")
        single.get_by_label("Code", exact=True).fill("visit_reason")
        single.get_by_label("Code", exact=True).press("Enter")  # Enter in a field does not save
        _fill_texts(single, "Wording", "Why did you come?", "您为什么来？")
        single.get_by_label("Required").check()
        single.get_by_role("button", name="Add option").click()
        for n, (en, zh) in enumerate(
            [("A question", "咨询"), ("A problem", "问题"), ("Other", "其他")], start=1
        ):
            _fill_texts(single.get_by_role("group", name=f"Option {n}"), "Label", en, zh)

        multiple = _add(p1, "Multiple choice")
        multiple.get_by_label("Code", exact=True).fill("channels")
        _fill_texts(multiple, "Wording", "Which channels?", "哪些渠道？")
        for n, (en, zh) in enumerate([("Branch", "网点"), ("App", "手机银行")], start=1):
            _fill_texts(multiple.get_by_role("group", name=f"Option {n}"), "Label", en, zh)
        # Duplicate gives the copy a free code; Undo takes it back.
        multiple.get_by_role("button", name="Duplicate").click()
        expect(p1.locator("fieldset.question > legend").nth(3)).to_have_text(
            "Question 4 · channels_copy · Multiple choice"
        )
        page.get_by_role("button", name="Undo").click()
        expect(page.get_by_role("status")).to_have_text("Undone.")
        expect(p1.locator("fieldset.question")).to_have_count(3)

        rating = _add(p1, "Rating")
        rating.get_by_label("Code", exact=True).fill("staff")
        _fill_texts(rating, "Wording", "How were our staff?", "员工表现如何？")
        rating.get_by_role("button", name="Add label").click()
        label = rating.get_by_role("group", name="Label 1")
        expect(label.get_by_label("Point")).to_have_value("1")
        _fill_texts(label, "Label", "Poor", "差")

        matrix = _add(p1, "Matrix")
        matrix.get_by_label("Code", exact=True).fill("branch")
        _fill_texts(matrix, "Wording", "Rate the branch", "评价网点")
        matrix.get_by_role("button", name="Add row").click()
        for n, (code, en, zh) in enumerate(
            [
                ("branch_wait", "Waiting time", "等候时间"),
                ("branch_clean", "Cleanliness", "整洁程度"),
            ],
            start=1,
        ):
            row = matrix.get_by_role("group", name=f"Row {n}")
            row.get_by_label("Row code").fill(code)
            _fill_texts(row, "Statement", en, zh)

        # A slider added last, then moved above the matrix with the keyboard.
        slider = _add(p1, "Slider")
        slider.get_by_label("Code", exact=True).fill("share")
        _fill_texts(slider, "Wording", "Share of your banking (%)", "在我行的业务占比（%）")
        slider.get_by_label("Step").fill("5")
        slider.get_by_role("button", name="Move up").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status")).to_have_text("Question moved: page 1, position 5.")
        expect(p1.locator("fieldset.question > legend")).to_have_text(
            [
                "Question 1 · From the library: Net Promoter Score",
                "Question 2 · visit_reason · Single choice",
                "Question 3 · channels · Multiple choice",
                "Question 4 · staff · Rating",
                "Question 5 · share · Slider",
                "Question 6 · branch · Matrix",
            ]
        )
        expect(
            p1.locator("fieldset.question").nth(4).get_by_role("button", name="Move up")
        ).to_be_focused()

        page.get_by_role("button", name="Add page").click()
        p2 = page.get_by_role("region", name="Page 2")
        text = _add(p2, "Free text")
        text.get_by_label("Code", exact=True).fill("suggestion")
        _fill_texts(text, "Wording", "What should we fix?", "我们应该改进什么？")
        text.get_by_label("Show this question").select_option(label="only if all of these hold")
        text.get_by_label("Question", exact=True).select_option("nps")
        text.get_by_label("Condition", exact=True).select_option(label="is at most")
        text.get_by_label("Answer value", exact=True).fill("6")
        # A page duplicated, moved up by the keyboard, and deleted again.
        p2.get_by_role("button", name="Duplicate page").click()
        p3 = page.get_by_role("region", name="Page 3")
        expect(p3.locator("fieldset.question > legend")).to_have_text(
            ["Question 1 · suggestion_copy · Free text"]
        )
        p3.get_by_role("button", name="Move page up").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status")).to_have_text("Page moved to position 2.")
        expect(p2.locator("fieldset.question > legend")).to_have_text(
            ["Question 1 · suggestion_copy · Free text"]
        )
        p2.get_by_role("button", name="Delete page").click()
        expect(page.locator("section.page")).to_have_count(2)

        expect(page.locator("#check")).to_contain_text("The definition is valid: 2 pages")
        page.screenshot(path=str(tmp_path / "builder.png"), full_page=True)
        page.get_by_role("button", name="Save as draft").click()
        expect(page).to_have_url(f"{live_server}/surveys/branch_pulse")

    assert _spec(web_store, "branch_pulse") == BUILT
    with connect(web_store, write=True) as conn:
        service.set_state(conn, code="branch_pulse", state="live", actor="test")

    # Editing the live survey in the form makes version 2; version 1 stays as it was.
    with _page(live_server) as page:
        page.goto(f"{live_server}/surveys/branch_pulse/edit")
        expect(page.get_by_role("region", name="Survey").get_by_label("Code")).to_have_attribute(
            "readonly", ""
        )
        staff = page.locator("fieldset.question").nth(3)
        staff.get_by_label("Wording (English)").fill("How helpful were our staff?")
        page.get_by_role("button", name="Save as draft").click()
        expect(page).to_have_url(f"{live_server}/surveys/branch_pulse?version=2")

    changed = json.loads(json.dumps(BUILT))
    changed["pages"][0]["questions"][3]["text"]["en"] = "How helpful were our staff?"
    assert _spec(web_store, "branch_pulse", 2) == changed
    assert _spec(web_store, "branch_pulse", 1) == BUILT
    with connect(web_store) as conn:
        states = [service.get_survey(conn, "branch_pulse", v).state for v in (1, 2)]
    assert states == ["live", "draft"]


ROUND_TRIP = """\
code: round_trip
title: {en: "Round trip", zh_CN: "往返"}
intro: {en: "Hello", zh_CN: "您好"}
thanks: {en: "Thanks", zh_CN: "谢谢"}
locales: [en, zh_CN]
pages:
  - title: {en: "One", zh_CN: "一"}
    questions:
      - use: servqual
        version: 1
        variant: servperf
        items: [sq01, sq05]
        randomize_rows: true
      - code: ease
        type: matrix
        text: {en: "How easy was it?", zh_CN: "容易吗？"}
        help: {en: "One answer per row", zh_CN: "每行选一项"}
        min: 1
        max: 7
        labels: {1: {en: "Hard", zh_CN: "难"}, 7: {en: "Easy", zh_CN: "易"}}
        rows:
          - {code: ease_app, text: {en: "The app", zh_CN: "手机银行"}, dimension: digital, reverse: true}
          - {code: ease_branch, text: {en: "The branch", zh_CN: "网点"}, dimension: branch}
      - code: tags
        type: multiple
        min_choices: 1
        max_choices: 2
        text: {en: "What applies?", zh_CN: "哪些适用？"}
        options:
          - {value: 1, label: {en: "Fast", zh_CN: "快"}}
          - {value: 2, label: {en: "Friendly", zh_CN: "友好"}}
          - {value: 3, label: {en: "Clear", zh_CN: "清楚"}}
  - questions:
      - code: why
        type: text
        max_length: 500
        text: {en: "Why?", zh_CN: "为什么？"}
        show_if: {all: [{question: ease_app, op: in, value: [1, 2]}]}
      - use: nps
        version: 1
        show_if: {any: [{question: sq01, op: answered}, {question: tags, op: eq, value: 2}]}
"""

# Strings, keys and numbers a YAML writer easily gets wrong.
TRICKY = {
    "strings": [
        *("yes", "No", "on", "OFF", "y", "null", "~", "true", "1e3", "007", "0x1F", "1_000"),
        *("", " lead", "trail ", "a: b", "# hash", "- dash", "? q", "{x}", "[y]", "&a", "*b"),
        *("!tag", "%d", "@at", "`t`", "'s'", 'say "hi"', "back\\slash", "two\nlines", "tab\there"),
        *("\u2028", "\x85", "\x7f", "\ufeff", "网点服务", "😀", "é", "3.0", "-", ":", "--- x"),
    ],
    "yes": {"1": {"01": "x", "a b": [], "中文": {}}, "-2": None, "null": True, "on": False},
    "numbers": [0, -1, 1.5, 1e-7, 1e21, -2.5e-12, 123456789, 1000000000],
    "nested": [[1, [2, []]], {"k": [{"a": {"b": [None]}}]}, "x" * 120],
    "long": [f"item number {i}" for i in range(12)],
}


def _int_keys(value: Any) -> Any:
    # YAML reads the key 1 as a number; the form writes whole-number keys (scale points) so
    if isinstance(value, dict):
        return {
            (int(k) if k.lstrip("-").isdigit() and not k.startswith("0") else k): _int_keys(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_int_keys(v) for v in value]
    return value


def test_form_keeps_what_it_does_not_edit_and_writes_yaml_that_reads_back(
    live_server: str, web_store: Settings
) -> None:
    from playwright.sync_api import expect

    with connect(web_store, write=True) as conn:
        service.create_survey(conn, text=ROUND_TRIP, actor="test")
        exported = service.export_survey(conn, "round_trip")
    before = _spec(web_store, "round_trip")
    with _page(live_server) as page:
        page.goto(f"{live_server}/surveys/round_trip/edit")
        emitted = page.evaluate(
            "s => window.cxoYaml.dump(JSON.parse(s))", json.dumps(TRICKY, ensure_ascii=False)
        )
        assert yaml.safe_load(emitted) == _int_keys(TRICKY), emitted

        area = page.locator("#definition")
        expect(area).to_have_value(exported)
        # A change and its undoing make the form write the whole definition again ...
        first = page.locator("fieldset.question").first
        first.get_by_label("Required").check()
        expect(area).not_to_have_value(exported)
        assert "required: true" in area.input_value()
        first.get_by_label("Required").uncheck()
        # Leaving with changes not saved asks first; staying keeps them.
        asked: list[str] = []

        def stay(dialog: Any) -> None:
            asked.append(dialog.type)
            dialog.dismiss()

        page.once("dialog", stay)
        page.get_by_role("link", name="Surveys", exact=True).click()
        for _ in range(50):
            if asked:
                break
            page.wait_for_timeout(100)
        assert asked == ["beforeunload"]
        expect(page).to_have_url(f"{live_server}/surveys/round_trip/edit")
        # ... and the YAML view, edited, is read back by the server when the form is shown again.
        page.get_by_role("button", name="Advanced (YAML)").click()
        expect(area).to_be_visible()
        expect(page.locator("#form-view")).to_be_hidden()
        area.fill(area.input_value() + "# a comment the form cannot keep\n")
        page.get_by_role("button", name="Form", exact=True).click()
        expect(page.locator("#form-view")).to_be_visible()
        random = page.get_by_role("region", name="Page 2").get_by_label(
            "Show this page's questions in random order"
        )
        random.check()
        random.uncheck()
        assert "# a comment" not in area.input_value()
        expect(page.locator("#check")).to_contain_text("The definition is valid: 2 pages")
        page.get_by_role("button", name="Save as draft").click()
        expect(page).to_have_url(f"{live_server}/surveys/round_trip?version=1")
    assert _spec(web_store, "round_trip") == before


def test_a_save_error_points_at_the_question_and_the_yaml_view_reports_broken_yaml(
    live_server: str, web_store: Settings
) -> None:
    from playwright.sync_api import expect

    with _page(live_server) as page:
        page.goto(f"{live_server}/surveys/new")
        p3 = page.get_by_role("region", name="Page 3")
        q = p3.locator("fieldset.question").first
        q.get_by_label("Type").select_option(label="Single choice")
        # a choice question with two options that have no labels yet: the check names the place
        expect(page.locator("#check .error")).to_contain_text("pages.2.questions.0")
        expect(q).to_have_class("question invalid")
        page.locator("#check").get_by_role("button", name="Show in the form").click()
        expect(q.get_by_label("Code", exact=True)).to_be_focused()
        page.get_by_role("button", name="Save as draft").click()
        expect(page.locator("#save-error")).to_contain_text("pages.2.questions.0")
        expect(page.locator("#form-view fieldset.question.invalid")).to_have_count(1)
        # The type change is kept in what came back from the server.
        expect(
            page.get_by_role("region", name="Page 3")
            .locator("fieldset.question")
            .first.get_by_label("Type")
        ).to_have_value("single")

        page.get_by_role("button", name="Advanced (YAML)").click()
        page.locator("#definition").fill("code: [unclosed")
        page.get_by_role("button", name="Form", exact=True).click()
        expect(page.locator("#view-problem")).to_contain_text(
            "The form cannot show this definition"
        )
        expect(page.locator("#view-problem")).to_contain_text("line 1")
        expect(page.locator("#definition")).to_be_visible()
    with connect(web_store) as conn:
        assert service.list_surveys(conn) == []


def test_the_builder_in_chinese_on_a_phone(
    live_server: str, web_store: Settings, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with _page(live_server, locale="zh-CN", width=390) as page:
        page.goto(f"{live_server}/surveys/new")
        page.get_by_role("button", name="简体中文").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("新建问卷")
        expect(page.get_by_role("button", name="表单", exact=True)).to_have_attribute(
            "aria-pressed", "true"
        )
        expect(page.get_by_role("button", name="高级（YAML）")).to_be_visible()
        survey = page.get_by_role("region", name="问卷", exact=True)
        expect(survey.get_by_label("代码", exact=True)).to_have_value("my_survey")
        expect(survey.get_by_label("标题（简体中文）")).to_have_value("请告诉我们您的体验")
        p1 = page.get_by_role("region", name="第 1 页")
        expect(p1.locator("fieldset.question > legend").first).to_have_text(
            "第 1 题 · 来自量表库：服务质量（SERVQUAL）"
        )
        expect(p1.get_by_role("group", name="量表", exact=True)).to_be_visible()
        p1.get_by_label("添加问题").select_option(label="单选题")
        p1.get_by_role("button", name="添加", exact=True).click()
        new = p1.locator("fieldset.question").last
        expect(new.get_by_label("措辞（English）")).to_be_visible()
        expect(new.get_by_role("group", name="选项", exact=True)).to_be_visible()
        expect(new.get_by_role("group", name="跳转逻辑")).to_be_visible()
        expect(page.get_by_role("status")).to_have_text("已添加问题。")
        expect(page.get_by_role("button", name="保存为草稿")).to_be_visible()
        # Nothing is wider than the phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(tmp_path / "builder-zh-phone.png"), full_page=True)
