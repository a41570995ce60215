"""Surveys on the web: the builder and API for staff, and the respondent's pages."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import sqlalchemy as sa
from fastapi.testclient import TestClient

from cxo.settings import Settings
from cxo.store.engine import connect
from cxo.store.tables import answers, invitations, responses
from cxo.surveys import respond, service
from cxo.web.app import create_app
from tests.surveys.test_definition import GOOD
from tests.web.conftest import csrf_of


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _live(settings: Settings, text: str = GOOD) -> int:
    with connect(settings, write=True) as conn:
        service.create_survey(conn, text=text, actor="test")
        return service.set_state(conn, code="branch_visit", state="live", actor="test").id


def _invite(settings: Settings, survey_id: int, *, days: int = 30, locale: str = "zh_CN") -> str:
    token = respond.new_token()
    now = dt.datetime.now(dt.UTC)
    with connect(settings, write=True) as conn:
        conn.execute(
            invitations.insert().values(
                survey_id=survey_id,
                token_hash=respond.token_hash(token),
                channel="email",
                locale=locale,
                sent_at=now,
                expires_at=now + dt.timedelta(days=days),
                status="sent",
                created_at=now,
            )
        )
    return token


PAGE0 = {
    **{f"servqual_importance.sq{c}": "6" for c in ("01", "05", "11")},
    **{f"servqual_performance.sq{c}": "4" for c in ("01", "05", "11")},
}


def _post(client: TestClient, path: str, data: dict[str, str]) -> object:
    page = client.get(path)
    match = re.search(r'name="page" value="(\d+)"', page.text)
    fields = {"csrf_token": csrf_of(client, path), "page": match.group(1) if match else "0"}
    return client.post(path, data={**fields, **data}, follow_redirects=False)


def test_api_creates_publishes_and_exports_surveys(
    client: TestClient, token_for: Callable[..., str]
) -> None:
    auth = _bearer(token_for("analyst", "surveys:write"))
    r = client.post(
        "/api/v1/surveys",
        content=GOOD.encode(),
        headers={**auth, "content-type": "application/yaml"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "draft"
    bad = client.post(
        "/api/v1/surveys",
        content=GOOD.replace("value: 2,", "value: 1,").encode(),
        headers={**auth, "content-type": "application/yaml"},
    )
    assert bad.status_code == 400 and "line 11" in bad.json()["detail"]
    r = client.post("/api/v1/surveys/branch_visit/publish", headers=auth)
    assert r.status_code == 200 and r.json()["state"] == "live"
    r = client.put(
        "/api/v1/surveys/branch_visit",
        content=GOOD.replace("Why?", "Why now?").encode(),
        headers=auth,
    )
    assert r.status_code == 200 and r.json()["version"] == 2
    wrong = client.put("/api/v1/surveys/other", content=GOOD.encode(), headers=auth)
    assert wrong.status_code == 409
    r = client.get("/api/v1/surveys/branch_visit/definition?format=json&version=1", headers=auth)
    assert r.status_code == 200 and '"code": "branch_visit"' in r.text
    assert client.get("/api/v1/survey-instruments", headers=auth).json()[0]["code"] == "ces"
    link = client.post("/api/v1/surveys/branch_visit/links", json={"label": "poster"}, headers=auth)
    assert link.status_code == 201 and link.json()["path"].startswith("/s/l/")
    # read-only tokens and viewers cannot write
    ro = _bearer(token_for("viewer", "surveys:read"))
    assert client.get("/api/v1/surveys", headers=ro).status_code == 200
    assert client.post("/api/v1/surveys", content=GOOD.encode(), headers=ro).status_code == 403
    assert client.get("/api/v1/surveys").status_code == 401


def test_builder_pages_check_create_and_publish(login_as: Callable[[str], TestClient]) -> None:
    c = login_as("analyst")
    page = c.get("/surveys/new")
    assert page.status_code == 200 and "use: servqual" in page.text
    token = csrf_of(c, "/surveys/new")
    checked = c.post("/surveys/check", data={"definition": GOOD, "csrf_token": token})
    assert "The definition is valid" in checked.text and "sq05" in checked.text
    checked = c.post(
        "/surveys/check", data={"definition": GOOD.replace("use: npx", "x"), "csrf_token": token}
    )
    broken = c.post(
        "/surveys/check",
        data={"definition": GOOD.replace("use: nps", "use: npx"), "csrf_token": token},
    )
    assert "line 8" in broken.text
    r = c.post(
        "/surveys/new", data={"definition": GOOD, "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/surveys/branch_visit"
    detail = c.get("/surveys/branch_visit")
    assert "branch_visit" in detail.text and "Publish" in detail.text
    r = c.post(
        "/surveys/branch_visit/state",
        data={"state": "live", "version": "1", "csrf_token": csrf_of(c, "/surveys/branch_visit")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "New public link" in c.get("/surveys/branch_visit").text
    assert c.get("/surveys").status_code == 200
    c.cookies.clear()


def test_viewers_see_surveys_but_cannot_build(login_as: Callable[[str], TestClient]) -> None:
    c = login_as("viewer")
    assert c.get("/surveys").status_code == 200
    assert c.get("/surveys/new").status_code == 403


def test_respondent_answers_by_invitation_in_chinese(
    client: TestClient, web_store: Settings
) -> None:
    token = _invite(web_store, _live(web_store))
    path = f"/s/{token}"
    first = client.get(path)
    assert first.status_code == 200
    assert 'lang="zh-CN"' in first.text and "银行的设备和技术是最新的" in first.text
    assert 'max="2" value="1"' in first.text  # progress: page 1 of 2
    # Missing answers: a clear message, nothing lost of what was given
    r = _post(client, path, {**PAGE0, "action": "next"})
    assert r.status_code == 200 and "请" in r.text and 'role="alert"' in r.text  # type: ignore[attr-defined]
    assert 'value="6" checked' in r.text  # type: ignore[attr-defined]
    # Out-of-range value is refused server-side
    r = _post(client, path, {**PAGE0, "nps": "11", "action": "next"})
    assert r.status_code == 200 and "0" in r.text and "10" in r.text  # type: ignore[attr-defined]
    r = _post(client, path, {**PAGE0, "nps": "2", "action": "next"})
    assert r.status_code == 303  # type: ignore[attr-defined]
    page2 = client.get(path)
    assert "为什么" in page2.text and 'max="2" value="2"' in page2.text
    script = "<script>alert(1)</script>"
    csrf = csrf_of(client, path)
    r = _post(client, path, {"reason": "1", "comment": script, "action": "next"})
    assert r.status_code == 303  # type: ignore[attr-defined]
    done = client.get(path)
    assert "感谢" in done.text or "Thank" in done.text
    # A double submit of the last page changes nothing; the link is used up.
    again = client.post(
        path,
        data={"csrf_token": csrf, "page": "1", "reason": "2", "action": "next"},
        follow_redirects=False,
    )
    assert again.status_code in (200, 303)
    with connect(web_store) as conn:
        state = conn.execute(sa.select(responses.c.state, responses.c.locale)).one()
        stored = dict(
            conn.execute(
                sa.select(
                    answers.c.item_code,
                    sa.func.coalesce(answers.c.value_text, sa.cast(answers.c.value_num, sa.String)),
                )
            ).all()
        )
    assert tuple(state) == ("completed", "zh_CN")
    assert stored["comment"] == script and float(stored["reason"]) == 1.0
    assert stored["nps"] in ("2.0", "2")


def test_bad_tokens_give_clear_pages_not_errors(client: TestClient, web_store: Settings) -> None:
    sid = _live(web_store)
    assert client.get("/s/short").status_code == 404
    assert client.get("/s/" + "A" * 32).status_code == 404
    assert client.get("/s/" + "%3Cscript%3E" * 3).status_code == 404
    expired = _invite(web_store, sid, days=-1)
    r = client.get(f"/s/{expired}")
    assert (r.status_code == 410 and "expired" in r.text.lower()) or "过期" in r.text
    # tampered token (one character changed)
    good = _invite(web_store, sid)
    tampered = good[:-1] + ("A" if good[-1] != "A" else "B")
    assert client.get(f"/s/{tampered}").status_code == 404


def test_closed_surveys_stop_taking_new_respondents(
    client: TestClient, web_store: Settings
) -> None:
    sid = _live(web_store)
    token = _invite(web_store, sid)
    with connect(web_store, write=True) as conn:
        service.set_state(conn, code="branch_visit", state="closed", actor="test")
    r = client.get(f"/s/{token}")
    assert r.status_code == 410


def test_public_link_resume_honeypot_and_rate_limit(
    client: TestClient, web_store: Settings
) -> None:
    _live(web_store)
    with connect(web_store, write=True) as conn:
        from cxo.surveys import links

        key = links.create_link(conn, survey_code="branch_visit", actor="test").key
    landing = client.get(f"/s/l/{key}?lang=en")
    assert landing.status_code == 200 and "Start the survey" in landing.text
    token = csrf_of(client, f"/s/l/{key}")
    # A bot filling the honeypot gets a redirect and creates nothing.
    r = client.post(
        f"/s/l/{key}", data={"csrf_token": token, "website": "http://spam"}, follow_redirects=False
    )
    assert r.status_code == 303
    with connect(web_store) as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(responses)).scalar_one() == 0
    r = client.post(f"/s/l/{key}", data={"csrf_token": token, "lang": "en"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/s/r/")
    resume_path = r.headers["location"]
    # Save and finish later, then come back through the public link: same response
    r = _post(client, resume_path, {**PAGE0, "action": "save"})
    assert r.status_code == 200 and resume_path in r.text  # type: ignore[attr-defined]
    back = client.get(f"/s/l/{key}", follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == resume_path
    assert 'value="6" checked' in client.get(resume_path).text
    # Rate limit on anonymous starts
    statuses = []
    for _ in range(25):
        statuses.append(
            client.post(
                f"/s/l/{key}", data={"csrf_token": token}, follow_redirects=False
            ).status_code
        )
    assert 429 in statuses
    assert client.get("/s/l/" + "x" * 22).status_code == 404


def test_fieldwork_page_and_wave_from_the_web(
    login_as: Callable[[str], TestClient], web_store: Settings
) -> None:
    from cxo.store.tables import customers

    _live(web_store)
    now = dt.datetime.now(dt.UTC)
    with connect(web_store, write=True) as conn:
        for i in range(3):
            conn.execute(
                customers.insert().values(
                    display_name=f"C{i}",
                    email=f"c{i}@example.com",
                    segment="affluent",
                    created_at=now,
                    updated_at=now,
                )
            )
    c = login_as("analyst")
    page = c.get("/surveys/branch_visit/fieldwork")
    assert page.status_code == 200 and "Nobody has been invited yet" in page.text
    assert 'value="affluent"' in page.text
    r = c.post(
        "/surveys/branch_visit/waves",
        data={
            "segment": "affluent",
            "name": "Q4",
            "csrf_token": csrf_of(c, "/surveys/branch_visit/fieldwork"),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    c.app.state.mail_jobs.wait()  # type: ignore[attr-defined]
    shown = c.get(r.headers["location"])
    assert "3 invited" in shown.text
    assert c.get("/surveys/branch_visit/fieldwork?by=channel").status_code == 200
    assert c.get("/surveys/branch_visit/fieldwork?by=nonsense").status_code == 400
    c.cookies.clear()
    v = login_as("viewer")
    assert v.get("/surveys/branch_visit/fieldwork").status_code == 200
    assert "Invite a segment" not in v.get("/surveys/branch_visit/fieldwork").text


def test_api_wave_and_fieldwork(
    client: TestClient, web_store: Settings, token_for: Callable[..., str]
) -> None:
    _live(web_store)
    auth = _bearer(token_for("analyst", "surveys:write"))
    r = client.post(
        "/api/v1/surveys/branch_visit/waves",
        json={"name": "list", "audience": {"customer_ids": [5, 6]}, "send": False},
        headers=auth,
    )
    assert r.status_code == 201, r.text
    assert r.json()["unknown"] == 2
    bad = client.post(
        "/api/v1/surveys/branch_visit/waves",
        json={"name": "x", "audience": {"customer_ids": ["a"]}},
        headers=auth,
    )
    assert bad.status_code == 400
    fw = client.get("/api/v1/surveys/branch_visit/fieldwork?by=segment", headers=auth)
    assert fw.status_code == 200 and fw.json()["total"]["invited"] == 0
    t = client.post(
        "/api/v1/surveys/branch_visit/triggers",
        json={"channel": "phone", "outcome": "resolved", "delay_hours": 1},
        headers=auth,
    )
    assert t.status_code == 201


def test_flagged_responses_are_shown_and_analysts_decide(
    login_as: Callable[[str], TestClient], web_store: Settings, token_for: Callable[..., str]
) -> None:
    sid = _live(web_store)
    token = _invite(web_store, sid, locale="en")
    c = login_as("analyst")
    # A straight-liner who also rushes: every SERVQUAL row the same, done in no time.
    path = f"/s/{token}"
    c.get(path)
    _post(c, path, {**{k: "7" for k in PAGE0}, "nps": "0", "action": "next"})
    _post(c, path, {"reason": "1", "action": "next"})
    with connect(web_store) as conn:
        rid, flags = conn.execute(sa.select(responses.c.id, responses.c.quality_flags)).one()
    assert flags is not None  # checked at completion
    page = c.get("/surveys/branch_visit/responses")
    assert page.status_code == 200 and f">{rid}<" in page.text
    r = c.post(
        f"/surveys/branch_visit/responses/{rid}/inclusion",
        data={"include": "exclude", "csrf_token": csrf_of(c, "/surveys/branch_visit/responses")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with connect(web_store) as conn:
        assert conn.execute(sa.select(responses.c.include_override)).scalar_one() is False
    auth = _bearer(token_for("analyst", "surveys:write"))
    listed = c.get("/api/v1/surveys/branch_visit/responses", headers=auth).json()
    assert listed["items"][0]["excluded"] is True
    assert (
        c.post(
            f"/api/v1/responses/{rid}/inclusion", json={"include": None}, headers=auth
        ).status_code
        == 204
    )
    assert (
        c.post(
            "/api/v1/responses/999999/inclusion", json={"include": True}, headers=auth
        ).status_code
        == 404
    )
    c.cookies.clear()
    v = login_as("viewer")
    assert v.get("/surveys/branch_visit/responses").status_code == 200
    assert "Exclude" not in v.get("/surveys/branch_visit/responses").text


def test_opening_a_link_is_not_starting(client: TestClient, web_store: Settings) -> None:
    # Mail scanners open every link: that counts as opened, not as a started response.
    from cxo.surveys.fieldwork import fieldwork

    token = _invite(web_store, _live(web_store))
    for _ in range(3):
        assert client.get(f"/s/{token}").status_code == 200
    with connect(web_store) as conn:
        total = fieldwork(conn, "branch_visit").total
        assert (total.opened, total.started) == (1, 0)
        assert conn.execute(sa.select(sa.func.count()).select_from(responses)).scalar_one() == 0
    _post(client, f"/s/{token}", {**PAGE0, "action": "save"})
    with connect(web_store) as conn:
        assert fieldwork(conn, "branch_visit").total.started == 1
        started = conn.execute(sa.select(responses.c.started_at)).scalar_one()
    assert started is not None


def test_respondent_pages_take_the_fast_path(
    client: TestClient, web_store: Settings, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Opening and submitting by token skip FastAPI's routing; the same pages come back, the CSRF
    check still holds, and other /s/ addresses (public links, opt-out) still reach their routes."""
    from cxo.surveys import public

    served: list[str] = []
    original = public._fast

    async def counting(request, *, resume: bool, token: str):  # type: ignore[no-untyped-def]
        served.append(request.method)
        return await original(request, resume=resume, token=token)

    monkeypatch.setattr(public, "_fast", counting)
    token = _invite(web_store, _live(web_store))
    path = f"/s/{token}"
    assert client.get(path).status_code == 200
    refused = client.post(path, data={**PAGE0, "action": "next"}, follow_redirects=False)
    assert refused.status_code == 403  # no CSRF token
    assert _post(client, path, {**PAGE0, "nps": "2", "action": "next"}).status_code == 303  # type: ignore[attr-defined]
    assert client.get("/s/short").status_code == 404
    assert served == ["GET", "POST", "GET", "GET", "POST", "GET"]  # _post opens the page twice
    assert client.get("/s/u/whatever").status_code == 404  # the opt-out route, not the fast path
    assert client.put(path).status_code == 405
    assert len(served) == 6


def _fields(html: str) -> tuple[str, str]:
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
    stamp = re.search(r'name="t" value="([^"]+)"', html)
    assert csrf and stamp
    return csrf.group(1), stamp.group(1)


def test_a_cached_page_is_the_page_rendered_for_that_respondent(
    web_store: Settings, tmp_path: object
) -> None:
    """A fresh page is rendered once with placeholders and filled in per respondent: what each
    gets is exactly the page rendered for them, their address, CSRF token and time stamp (and an
    anonymous respondent's resume address, HTML-escaped) included."""
    from cxo.surveys import flow, links, public

    # A public address with characters that must be escaped in HTML.
    settings = web_store.model_copy(update={"public_url": "https://cx.example/a&b"})
    _live(settings)
    with connect(settings, write=True) as conn:
        survey_id = service.get_survey(conn, "branch_visit").id
        key = links.create_link(conn, survey_code="branch_visit", actor="test").key
    tokens = [_invite(settings, survey_id, locale=loc) for loc in ("zh_CN", "zh_CN", "en")]
    public._PAGES.clear()
    with TestClient(create_app(settings)) as c:
        pages = []
        for token in tokens:
            c.cookies.clear()
            pages.append((f"/s/{token}", c.get(f"/s/{token}").text))
        c.cookies.clear()
        start = c.post(f"/s/l/{key}", data={"csrf_token": csrf_of(c, f"/s/l/{key}")})
        resume_path = str(start.url.path)
        pages.append((resume_path, start.text))
        assert len(public._PAGES) == 3  # two languages, and the page with a resume address
        with connect(settings) as conn:
            sessions = [respond.open_invitation(conn, t) for t in tokens]
            sessions.append(respond.open_resume(conn, resume_path.rsplit("/", 1)[1]))
    for (path, html), s in zip(pages, sessions, strict=True):
        csrf, stamp = _fields(html)
        slots = {"path": path, "csrf": csrf, "stamp": stamp}
        if "/s/r/" in path:
            slots["resume"] = "https://cx.example/a&b" + path
            assert "https://cx.example/a&amp;b/s/r/" in html
        shown = flow.page_questions(s.survey, s.page, seed=s.seed, answers=s.answers)
        assert html == public._page_html(s, shown, s.locale or "en", None, slots)
    assert pages[0][1] != pages[1][1]  # their own tokens


def test_respondent_forms_read_straight_from_the_body(
    client: TestClient, web_store: Settings
) -> None:
    """URL-encoded forms are parsed from the body on the fast path; multipart forms still work;
    bad encodings and too many fields give a clear page, never a 500."""
    token = _invite(web_store, _live(web_store))
    path = f"/s/{token}"
    csrf = csrf_of(client, path)
    # multipart/form-data (a browser with enctype set) takes the general parser
    r = client.post(
        path,
        files={
            k: (None, v) for k, v in {**PAGE0, "nps": "3", "csrf_token": csrf, "page": "0"}.items()
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert 'name="page" value="1"' in client.get(path).text
    # an invalid UTF-8 escape in free text is replaced, not a 500
    body = f"csrf_token={csrf}&page=1&action=save&comment=%FF%E6%85%A2&reason=2"
    r = client.post(
        path,
        content=body.encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert r.status_code == 200
    with connect(web_store) as conn:
        text = conn.execute(
            sa.select(answers.c.value_text).where(answers.c.item_code == "comment")
        ).scalar_one()
    assert text == "\ufffd慢"
    many = "&".join(f"f{i}=1" for i in range(1001))
    for content_type, content in (
        ("application/x-www-form-urlencoded", f"csrf_token={csrf}&{many}".encode()),
        (
            "multipart/form-data; boundary=b",
            b"--b\r\n"
            + b"".join(
                f'Content-Disposition: form-data; name="f{i}"\r\n\r\n1\r\n--b\r\n'.encode()
                for i in range(1001)
            )
            + b"--\r\n",
        ),
    ):
        r = client.post(path, content=content, headers={"content-type": content_type})
        assert r.status_code == 400 and "too many fields" in r.text, content_type
