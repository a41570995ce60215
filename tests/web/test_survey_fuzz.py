"""Fuzzing the respondent's public endpoints and the survey API: no input gives a 500."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from urllib.parse import quote

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxo.settings import Settings
from cxo.store.engine import connect
from cxo.store.tables import invitations
from cxo.surveys import links, respond, service
from tests.surveys.test_definition import GOOD
from tests.web.conftest import csrf_of

FIELD_NAMES = st.sampled_from(
    [
        "nps",
        "page",
        "action",
        "lang",
        "reason",
        "comment",
        "website",
        "servqual_importance.sq01",
        "servqual_performance.sq05",
        "x" * 130,
    ]
) | st.text(max_size=20)
VALUES = st.one_of(
    st.text(max_size=50),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["next", "back", "save", "-1", "0", "1", "10", "11", "1e309", "<script>"]),
)
FORMS = st.dictionaries(FIELD_NAMES, st.lists(VALUES, min_size=1, max_size=3), max_size=8)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _setup(store: Settings) -> tuple[str, str]:
    now = dt.datetime.now(dt.UTC)
    with connect(store, write=True) as conn:
        service.create_survey(conn, text=GOOD, actor="t")
        sid = service.set_state(conn, code="branch_visit", state="live", actor="t").id
        token = respond.new_token()
        conn.execute(
            invitations.insert().values(
                survey_id=sid,
                token_hash=respond.token_hash(token),
                channel="email",
                sent_at=now,
                expires_at=now + dt.timedelta(days=5),
                status="sent",
                created_at=now,
            )
        )
        key = links.create_link(conn, survey_code="branch_visit", actor="t").key
    return token, key


def test_public_endpoints_never_fail(client: TestClient, web_store: Settings) -> None:
    token, key = _setup(web_store)
    csrf = csrf_of(client, f"/s/{token}")

    @FUZZ
    @given(
        kind=st.sampled_from(["/s/", "/s/l/", "/s/r/", "/s/valid", "/s/l/valid"]),
        raw=st.text(max_size=80),
        form=FORMS,
        method=st.sampled_from(["GET", "POST"]),
    )
    def run(kind: str, raw: str, form: dict[str, list[str]], method: str) -> None:
        if kind == "/s/valid":
            path = f"/s/{token}"
        elif kind == "/s/l/valid":
            path = f"/s/l/{key}"
        else:
            path = kind + quote(raw, safe="")
        if method == "GET":
            r = client.get(path, params={"lang": form.get("lang", ["en"])[0]})
        else:
            r = client.post(path, data={**form, "csrf_token": [csrf]}, follow_redirects=False)
        assert r.status_code < 500, (path, r.status_code, r.text[:300])

    run()


def test_survey_api_bodies_never_fail(
    client: TestClient, web_store: Settings, token_for: Callable[..., str]
) -> None:
    auth = {"Authorization": f"Bearer {token_for('analyst', 'surveys:write')}"}
    yaml_ish = st.one_of(
        st.text(max_size=300),
        st.just(GOOD),
        st.builds(
            lambda a, b: GOOD.replace(a, b),
            st.sampled_from(["nps", "sq01", "en:", "- "]),
            st.text(max_size=10),
        ),
    )

    @FUZZ
    @given(
        body=yaml_ish,
        json_body=st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=10),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=8), inner, max_size=3)
            ),
            max_leaves=10,
        ),
    )
    def run(body: str, json_body: object) -> None:
        for r in (
            client.post("/api/v1/surveys", content=body.encode(), headers=auth),
            client.put("/api/v1/surveys/branch_visit", content=body.encode(), headers=auth),
            client.post("/api/v1/surveys/branch_visit/waves", json=json_body, headers=auth),
            client.post("/api/v1/surveys/branch_visit/links", json=json_body, headers=auth),
            client.post("/api/v1/surveys/branch_visit/triggers", json=json_body, headers=auth),
            client.post("/api/v1/responses/1/inclusion", json=json_body, headers=auth),
        ):
            assert r.status_code < 500, (r.request.url, r.status_code, r.text[:300])

    run()
