"""Importing a survey response file (CSV, SPSS) from the responses page, as a background job."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import sqlalchemy as sa
from fastapi.testclient import TestClient

from cxo.governance.models import audit_log
from cxo.imports.models import imports
from cxo.settings import Settings
from cxo.store.engine import connect
from cxo.surveys.exchange import export_responses
from tests.surveys.exchange_helpers import CODE, add_responses, make_survey, stored_answers
from tests.web.conftest import csrf_of

PAGE = f"/surveys/{CODE}/responses"
UPLOAD = f"{PAGE}/import"


def _exported(settings: Settings, suffix: str, n: int = 3) -> bytes:
    """``n`` stored responses (source ``web``) exported as cxo exports them."""
    add_responses(settings, make_survey(settings), n)
    path = settings.home / f"export{suffix}"
    with connect(settings) as conn:
        export_responses(conn, CODE, path)
    return path.read_bytes()


def _upload(client: TestClient, name: str, body: bytes, source: str, mapping: str = "") -> object:
    return client.post(
        UPLOAD,
        files={"file": (name, body, "application/octet-stream")},
        data={"source": source, "mapping": mapping, "csrf_token": csrf_of(client, PAGE)},
        follow_redirects=False,
    )


def _finished(client: TestClient, r: object) -> tuple[int, str]:
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    url = r.headers["location"]  # type: ignore[attr-defined]
    assert url.startswith(f"{PAGE}/imports/")
    client.app.state.import_jobs.wait_idle()  # type: ignore[attr-defined]
    page = client.get(url)
    assert page.status_code == 200, page.text
    return int(url.rsplit("/", 1)[1]), page.text


def _counts(settings: Settings, import_id: int) -> tuple[str, int, int, int]:
    i = imports.c
    with connect(settings) as conn:
        row = conn.execute(
            sa.select(i.state, i.rows_accepted, i.rows_duplicate, i.rows_quarantined).where(
                i.id == import_id
            )
        ).one()
    return row[0], row[1], row[2], row[3]


def test_analyst_imports_a_csv_with_a_bad_row_and_sees_the_counts(
    web_store: Settings, login_as: Callable[[str], TestClient]
) -> None:
    text = _exported(web_store, ".csv", 3).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    rows[2][rows[0].index("nps")] = "99"  # outside 0-10: the second response is quarantined
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    client = login_as("analyst")
    page = client.get(PAGE)
    assert "Import responses" in page.text and f'action="{UPLOAD}"' in page.text

    import_id, html = _finished(
        client, _upload(client, "wave.csv", buf.getvalue().encode(), "tool")
    )
    assert _counts(web_store, import_id) == ("done", 2, 0, 1)
    assert "Every row is accounted for" in html and "out_of_range" in html
    assert f'href="/imports/{import_id}/quarantine.csv"' in html and f'href="{PAGE}"' in html
    quarantine = client.get(f"/imports/{import_id}/quarantine.csv").content.decode("utf-8-sig")
    assert quarantine.splitlines()[1].startswith("2,out_of_range")
    tool = stored_answers(web_store, "tool")
    assert sorted(tool) == ["1", "3"]  # the export's response ids; row 2 (id 2) quarantined
    assert tool["1"] == stored_answers(web_store, "web")["R0000"]
    with connect(web_store) as conn:
        actions = {
            row.action: row.after_state
            for row in conn.execute(
                sa.select(audit_log.c.action, audit_log.c.after_state).where(
                    audit_log.c.object_type == "import", audit_log.c.object_id == str(import_id)
                )
            )
        }
    assert set(actions) == {"import.queue", "import.run"}
    assert actions["import.run"]["survey"] == CODE and actions["import.run"]["accepted"] == 2

    # The same file again changes nothing: every row a duplicate or quarantined again.
    again, _ = _finished(client, _upload(client, "wave.csv", buf.getvalue().encode(), "tool"))
    assert _counts(web_store, again) == ("done", 0, 2, 1)


def test_analyst_imports_an_spss_file_in_chinese(
    web_store: Settings, login_as: Callable[[str], TestClient]
) -> None:
    body = _exported(web_store, ".sav", 4)
    client = login_as("analyst")
    client.headers["accept-language"] = "zh-CN"
    assert "导入答卷" in client.get(PAGE).text
    import_id, html = _finished(client, _upload(client, "调查.sav", body, "spss"))
    assert _counts(web_store, import_id) == ("done", 4, 0, 0)
    assert "调查.sav" in html and "返回答卷" in html and "已接收" in html
    assert sorted(stored_answers(web_store, "spss")) == ["1", "2", "3", "4"]
    # The polled fragment is the imports' status fragment.
    poll = client.get(f"/imports/{import_id}", headers={"HX-Request": "true"})
    assert poll.status_code == 200 and "<html" not in poll.text


def test_bad_requests_get_clear_pages(
    web_store: Settings, login_as: Callable[[str], TestClient]
) -> None:
    body = _exported(web_store, ".csv", 2)
    client = login_as("analyst")
    r = _upload(client, "r.csv", body, "tool", mapping="columns: [unclosed")
    assert r.status_code == 400 and "not valid YAML" in r.text  # type: ignore[attr-defined]
    r = _upload(client, "r.csv", body, "tool", mapping="colums: {Q1: nps}")
    assert r.status_code == 400 and "colums" in r.text  # type: ignore[attr-defined]
    r = _upload(client, "r.exe", b"MZ", "tool")
    assert r.status_code == 400 and ".sav" in r.text  # type: ignore[attr-defined]
    r = _upload(client, "r.parquet", b"PAR1", "tool")
    assert r.status_code == 400  # type: ignore[attr-defined]
    token = csrf_of(client, PAGE)
    r = client.post(
        "/surveys/nope/responses/import",
        files={"file": ("r.csv", body)},
        data={"source": "tool", "csrf_token": token},
    )
    assert r.status_code == 404
    r = client.post(UPLOAD, files={"file": ("r.csv", body)}, data={"source": "tool"})
    assert r.status_code == 403  # no CSRF token
    with connect(web_store) as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(imports)).scalar_one() == 0
    # A mapping naming a column the file does not have fails in the job, shown on the page.
    bad = "fields: {response_id: 编号}"
    import_id, html = _finished(client, _upload(client, "r.csv", body, "tool", mapping=bad))
    assert _counts(web_store, import_id)[0] == "failed"
    assert "编号" in html and "failed" in html
    # Another survey's page does not show this import.
    assert client.get(f"/surveys/other/responses/imports/{import_id}").status_code == 404


def test_viewer_can_neither_see_nor_use_the_form(
    web_store: Settings, login_as: Callable[[str], TestClient]
) -> None:
    body = _exported(web_store, ".csv", 1)
    viewer = login_as("viewer")
    page = viewer.get(PAGE)
    assert page.status_code == 200 and "Import responses" not in page.text
    r = _upload(viewer, "r.csv", body, "tool")
    assert r.status_code == 403  # type: ignore[attr-defined]
    assert stored_answers(web_store, "tool") == {}


def test_the_upload_limit_is_the_imports_limit(web_store: Settings) -> None:
    from cxo.web.app import create_app
    from tests.web.conftest import login

    body = _exported(web_store, ".csv", 3)
    small = web_store.model_copy(
        update={"max_request_bytes": 64 * 1024, "import_max_bytes": len(body) + 4096}
    )
    with TestClient(create_app(small)) as client:
        login(client, "analyst")
        padded = body + b"\n" * (70 * 1024)  # over both the request limit and the import limit
        r = _upload(client, "r.csv", padded, "tool")
        assert r.status_code == 413  # type: ignore[attr-defined]
        big = small.model_copy(update={"import_max_bytes": len(padded) + 4096})
    with TestClient(create_app(big)) as client:
        login(client, "analyst")
        import_id, _ = _finished(client, _upload(client, "r.csv", padded, "tool"))
        assert _counts(web_store, import_id) == ("done", 3, 0, 0)
