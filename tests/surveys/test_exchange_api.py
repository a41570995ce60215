"""The response download API: CSV streams, Excel and SPSS files, and its permission."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from cxo.governance import permissions
from cxo.settings import Settings
from cxo.surveys import exchange_api
from cxo.web.app import create_app
from tests.surveys.exchange_helpers import CODE, add_responses, make_survey
from tests.web.conftest import token_for, web_store, web_template  # noqa: F401 - fixtures


@pytest.fixture
def api(web_store: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:  # noqa: F811
    # Until the lead registers them: voc.export for admins and analysts, and a token scope.
    monkeypatch.setitem(permissions.PERMISSIONS, "voc.export", frozenset({"admin", "analyst"}))
    monkeypatch.setitem(permissions.SCOPES, "voc:export", frozenset({"voc.export"}))
    app = create_app(web_store)
    if not any(getattr(r, "path", "").endswith("/responses.csv") for r in app.routes):
        app.include_router(exchange_api.router)
    add_responses(web_store, make_survey(web_store), 3)
    with TestClient(app) as client:
        yield client


def test_downloads_in_every_format(api: TestClient, token_for) -> None:  # noqa: F811
    import openpyxl
    import pyreadstat

    headers = {"Authorization": f"Bearer {token_for('analyst', 'voc:export')}"}
    r = api.get(f"/api/v1/surveys/{CODE}/responses.csv", headers=headers)
    assert r.status_code == 200, r.text
    assert r.content.startswith(b"\xef\xbb\xbf") and r.text.count("\n") >= 4
    assert "attachment" in r.headers["content-disposition"]
    r = api.get(f"/api/v1/surveys/{CODE}/responses.xlsx?locale=zh_CN", headers=headers)
    assert r.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["responses", "codebook"] and book["responses"].max_row == 4
    r = api.get(f"/api/v1/surveys/{CODE}/responses.sav", headers=headers)
    assert r.status_code == 200
    path = api.app.state.settings.home / "check.sav"  # type: ignore[attr-defined]
    path.write_bytes(r.content)
    data, meta = pyreadstat.read_sav(str(path))
    assert len(data) == 3 and meta.variable_value_labels["reason"][2.0] == "Staff"
    assert api.get("/api/v1/surveys/nope/responses.csv", headers=headers).status_code == 404


def test_needs_the_permission(api: TestClient, token_for) -> None:  # noqa: F811
    viewer = {"Authorization": f"Bearer {token_for('viewer', 'voc:export')}"}
    assert api.get(f"/api/v1/surveys/{CODE}/responses.csv", headers=viewer).status_code == 403
    no_scope = {"Authorization": f"Bearer {token_for('analyst', 'customers:read')}"}
    assert api.get(f"/api/v1/surveys/{CODE}/responses.sav", headers=no_scope).status_code == 403
    assert api.get(f"/api/v1/surveys/{CODE}/responses.csv").status_code == 401


def test_upload_round_trip_over_the_api(api: TestClient, token_for) -> None:  # noqa: F811
    headers = {"Authorization": f"Bearer {token_for('analyst', 'voc:export', 'imports:write')}"}
    csv = api.get(f"/api/v1/surveys/{CODE}/responses.csv", headers=headers).content
    url = f"/api/v1/surveys/{CODE}/responses/import"
    r = api.post(url, files={"file": ("r.csv", csv)}, data={"source": "tool"}, headers=headers)
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["read"] == 3 and first["accepted"] == 3
    again = api.post(url, files={"file": ("r.csv", csv)}, data={"source": "tool"}, headers=headers)
    assert again.json()["duplicates"] == 3 and again.json()["accepted"] == 0
    bad = api.post(url, files={"file": ("r.exe", b"MZ")}, data={"source": "tool"}, headers=headers)
    assert bad.status_code == 400
    broken = api.post(
        url,
        files={"file": ("r.csv", csv)},
        data={"source": "tool", "mapping": "columns: [unclosed"},
        headers=headers,
    )
    assert broken.status_code == 400 and "YAML" in broken.json()["detail"]
    viewer = {"Authorization": f"Bearer {token_for('viewer', 'imports:write')}"}
    assert (
        api.post(
            url, files={"file": ("r.csv", csv)}, data={"source": "x"}, headers=viewer
        ).status_code
        == 403
    )
