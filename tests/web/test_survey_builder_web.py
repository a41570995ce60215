"""The survey builder's server side: the data the form view is given, reading YAML for the form
(POST /surveys/form-data), and saving — roles, CSRF, and clear 400s for bad definitions."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import yaml
from fastapi.testclient import TestClient

from cxo.settings import Settings
from cxo.store.engine import connect
from cxo.surveys import service
from cxo.surveys.snippets import starter
from tests.surveys.test_definition import GOOD
from tests.web.conftest import csrf_of

BOOT = re.compile(r'<script type="application/json" id="builder-data">(.*?)</script>', re.S)


def _boot(html: str) -> dict[str, Any]:
    match = BOOT.search(html)
    assert match, "the builder page embeds no data for the form"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def _form_data(client: TestClient, text: str, *, csrf: bool = True) -> Any:
    headers = {"X-CSRF-Token": csrf_of(client, "/surveys/new")} if csrf else {}
    return client.post(
        "/surveys/form-data", data={"definition": text}, headers=headers, follow_redirects=False
    )


def _to_chinese(client: TestClient) -> None:
    client.post("/lang", data={"locale": "zh_CN", "next": "/", "csrf_token": csrf_of(client, "/")})


def test_the_builder_page_gives_the_form_the_definition_library_and_its_strings(
    login_as: Callable[[str], TestClient],
) -> None:
    c = login_as("analyst")
    page = c.get("/surveys/new")
    assert page.status_code == 200
    boot = _boot(page.text)
    # the starter definition as data, keys in the order written
    assert boot["definition"] == yaml.safe_load(starter())
    assert list(boot["definition"]) == ["code", "title", "intro", "thanks", "locales", "pages"]
    assert boot["problem"] is None and boot["code"] is None
    library = {i["code"]: i for i in boot["library"]}
    assert set(library) == {
        "servqual",
        "relationship_quality",
        "loyalty",
        "nps",
        "csat",
        "ces",
        "comment",
    }
    assert library["servqual"]["title"] == "Service quality (SERVQUAL)"
    assert len(library["servqual"]["items"]) == 22
    assert library["servqual"]["variants"]["servperf"] == ["performance"]
    assert library["nps"]["ranges"] == {"single": [0, 10]}
    assert boot["messages"]["Add a question"] == "Add a question"
    assert boot["messages"]["zh_CN"] == "简体中文"
    # without JavaScript the page is still the YAML editor, with the view switch hidden
    assert 'id="view-switch" hidden' in page.text and 'name="definition"' in page.text

    _to_chinese(c)
    boot = _boot(c.get("/surveys/new").text)
    assert boot["messages"]["Add a question"] == "添加问题"
    assert boot["messages"]["Question %(n)s · %(what)s"] == "第 %(n)s 题 · %(what)s"
    assert next(i for i in boot["library"] if i["code"] == "servqual")["items"][0]["text"] == (
        "银行的设备和技术是最新的。"
    )


def test_the_edit_page_gives_the_stored_definition_and_script_cannot_break_out(
    login_as: Callable[[str], TestClient], web_store: Settings
) -> None:
    sneaky = GOOD.replace('"After your branch visit"', '"</script><script>alert(1)</script> & co"')
    with connect(web_store, write=True) as conn:
        service.create_survey(conn, text=sneaky, actor="test")
        exported = service.export_survey(conn, "branch_visit")
    c = login_as("analyst")
    page = c.get("/surveys/branch_visit/edit")
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text
    boot = _boot(page.text)
    assert boot["code"] == "branch_visit"
    assert boot["definition"] == yaml.safe_load(exported)
    assert boot["definition"]["title"]["en"] == "</script><script>alert(1)</script> & co"


def test_form_data_reads_yaml_for_the_form_keeping_order_and_every_key(
    login_as: Callable[[str], TestClient],
) -> None:
    c = login_as("analyst")
    text = GOOD.replace("pages:", "note: {when: 2026-11-23, x: .nan, yes: 1}\npages:")
    r = _form_data(c, text)
    assert r.status_code == 200, r.text
    data = r.json()["definition"]
    assert list(data) == ["code", "title", "note", "pages"]
    # YAML's dates, non-finite numbers and non-string keys become what JSON can carry
    assert data["note"] == {"when": "2026-11-23", "x": "nan", "true": 1}
    assert data["pages"][1]["questions"][0]["show_if"] == {
        "question": "nps",
        "op": "le",
        "value": 6,
    }
    # JSON is read too, and an invalid survey is still shown (the check says what is wrong)
    r = _form_data(c, json.dumps({"code": "Bad Code", "pages": [{"questions": [{"use": "x"}]}]}))
    assert r.status_code == 200 and r.json()["definition"]["code"] == "Bad Code"


def test_form_data_refuses_what_the_form_cannot_show_with_a_400_never_a_500(
    login_as: Callable[[str], TestClient],
) -> None:
    c = login_as("analyst")
    cases = {
        "code: [unclosed": "line 1",
        "- just\n- a list\n": "a survey definition is a mapping",
        "code: x\npages: {a: 1}\n": "pages must be a list",
        "code: x\npages: [1]\n": "page 1 is not a mapping",
        "code: x\npages:\n  - questions: 3\n": "the questions of page 1 are not a list",
        "code: x\npages:\n  - questions: [nps]\n": "page 1 holds a question that is not a mapping",
        "[" * 5000: "nested too deeply",
    }
    # YAML aliases: 9 levels of 9 make 387 million values from a few hundred bytes
    bomb = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    bomb += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    cases["\n".join(bomb)] = "too large for the form"
    for text, expected in cases.items():
        r = c.post(
            "/surveys/form-data",
            content=("definition=" + quote(text)).encode(),
            headers={
                "X-CSRF-Token": csrf_of(c, "/surveys/new"),
                "content-type": "application/x-www-form-urlencoded",
            },
        )
        assert r.status_code == 400, (text[:40], r.status_code, r.text[:200])
        assert expected in r.json()["error"], (text[:40], r.json())
    _to_chinese(c)
    r = _form_data(c, "code: x\npages: [1]\n")
    assert r.status_code == 400 and r.json()["error"] == "第 1 页不是映射"


def test_builder_routes_need_the_role_and_the_csrf_token(
    login_as: Callable[[str], TestClient], client: TestClient, web_store: Settings
) -> None:
    with connect(web_store, write=True) as conn:
        service.create_survey(conn, text=GOOD, actor="test")
    # not logged in: sent to the login page
    r = client.post("/surveys/form-data", data={"definition": GOOD}, follow_redirects=False)
    assert r.status_code in (303, 401, 403)
    assert "definition" not in r.text
    c = login_as("viewer")
    token = csrf_of(c, "/surveys")
    assert c.get("/surveys/new").status_code == 403
    assert c.get("/surveys/branch_visit/edit").status_code == 403
    for path in (
        "/surveys/form-data",
        "/surveys/check",
        "/surveys/new",
        "/surveys/branch_visit/edit",
    ):
        r = c.post(path, data={"definition": GOOD, "csrf_token": token}, follow_redirects=False)
        assert r.status_code == 403, path
    c.post("/logout", data={"csrf_token": token})
    c.cookies.clear()
    c = login_as("analyst")
    # no token, a forged token
    assert _form_data(c, GOOD, csrf=False).status_code == 403
    forged = c.post(
        "/surveys/form-data", data={"definition": GOOD}, headers={"X-CSRF-Token": "forged"}
    )
    assert forged.status_code == 403
    r = c.post("/surveys/branch_visit/edit", data={"definition": GOOD}, follow_redirects=False)
    assert r.status_code == 403
    assert _form_data(c, GOOD).status_code == 200


def test_bad_definitions_give_a_400_page_that_names_the_line_and_the_place(
    login_as: Callable[[str], TestClient], web_store: Settings
) -> None:
    c = login_as("analyst")
    token = csrf_of(c, "/surveys/new")
    bad = GOOD.replace("value: 2,", "value: 1,")
    r = c.post("/surveys/new", data={"definition": bad, "csrf_token": token})
    assert r.status_code == 400
    assert "line 11 (pages.1.questions.0): option values must be unique" in r.text
    assert 'data-loc="pages.1.questions.0"' in r.text
    boot = _boot(r.text)  # the form gets back what was sent, to fix it there
    assert boot["definition"] == yaml.safe_load(bad)
    checked = c.post("/surveys/check", data={"definition": bad, "csrf_token": token})
    assert 'data-loc="pages.1.questions.0"' in checked.text
    # broken YAML: the page says where; the form cannot show it, the YAML view can
    r = c.post("/surveys/new", data={"definition": "code: [x\n", "csrf_token": token})
    assert r.status_code == 400 and "line 2" in r.text
    boot = _boot(r.text)
    assert boot["definition"] is None and "not valid YAML" in boot["problem"]
    for text in ("[" * 5000, "- a list", "code: deliverability\n" + GOOD.split("\n", 1)[1]):
        r = c.post("/surveys/new", data={"definition": text, "csrf_token": token})
        assert r.status_code == 400, (text[:30], r.status_code)
        assert 'class="error"' in r.text
    with connect(web_store) as conn:
        assert service.list_surveys(conn) == []


def test_saving_under_another_code_is_refused_in_the_users_language(
    login_as: Callable[[str], TestClient], web_store: Settings
) -> None:
    with connect(web_store, write=True) as conn:
        service.create_survey(conn, text=GOOD, actor="test")
    c = login_as("analyst")
    other = GOOD.replace("code: branch_visit", "code: other_code")
    token = csrf_of(c, "/surveys/branch_visit/edit")
    r = c.post("/surveys/branch_visit/edit", data={"definition": other, "csrf_token": token})
    assert r.status_code == 400
    assert "The definition&#39;s code is other_code; this survey is branch_visit." in r.text
    assert "Keep the code, or create a new survey for a new code." in r.text
    _to_chinese(c)
    r = c.post("/surveys/branch_visit/edit", data={"definition": other, "csrf_token": token})
    assert r.status_code == 400
    assert "定义中的代码是 other_code；本问卷是 branch_visit。" in r.text
    assert "请保留代码，或为新代码新建问卷。" in r.text
    with connect(web_store) as conn:
        assert [s.code for s in service.list_surveys(conn)] == ["branch_visit"]


def test_definition_problems_are_told_in_the_users_language(
    login_as: Callable[[str], TestClient],
) -> None:
    """The live check and a failed save say where and what in 简体中文 for a Chinese user; the
    message kept for the API and the CLI stays English."""
    from cxo.i18n import translator
    from cxo.surveys.compile import SurveyDefinitionError
    from cxo.surveys.yamlio import parse_and_compile

    # The condition names a question on a later page: a compile-time problem with a line.
    bad = GOOD.replace("show_if: {question: nps,", "show_if: {question: comment,")
    try:
        parse_and_compile(bad)
    except SurveyDefinitionError as exc:
        assert exc.message.startswith("line 14") and "show_if refers to 'comment'" in exc.message
        chinese = exc.localized(translator("zh_CN"))
        assert chinese.startswith("第 14 行") and "show_if 引用了 'comment'" in chinese
    else:  # pragma: no cover - the definition above is wrong
        raise AssertionError("expected a definition error")
    client = login_as("analyst")
    client.cookies.set("cxo_lang", "zh_CN")
    token = csrf_of(client, "/surveys/new")
    checked = client.post("/surveys/check", data={"definition": bad, "csrf_token": token})
    assert checked.status_code == 200 and "第 14 行" in checked.text
    assert "前面的页面没有这个问题" in checked.text
    saved = client.post("/surveys/new", data={"definition": bad, "csrf_token": token})
    assert saved.status_code == 400 and "第 14 行" in saved.text
    broken = client.post("/surveys/check", data={"definition": "code: [x\n", "csrf_token": token})
    assert "不是有效的 YAML 或 JSON" in broken.text
