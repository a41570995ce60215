"""Imports over the API (multipart upload as a background job) and through the pages."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi.testclient import TestClient

from cxo.settings import Settings
from tests.web.conftest import csrf_of

CSV = (
    "客户编号,姓名,手机,邮箱,生日\n"
    "A1,陈大文,13812345678,DaWen@Example.cn,1980-01-02\n"
    "A2,李小龙,+85291234567,bruce@example.hk,not-a-date\n"
    "A3,王伟,13912345678,wei@example.cn,1990-05-06\n"
)
MAPPING = """
columns:
  source_record_id: 客户编号
  full_name: 姓名
  phone: {column: 手机, region: CN}
  email: 邮箱
  birth_date: 生日
"""


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _wait(client: TestClient, url: str, headers: dict[str, str] | None = None) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = client.get(url, headers=headers).json()
        if body["state"] in ("done", "failed"):
            return body  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError("import did not finish")


def test_api_upload_runs_in_background_and_reconciles(
    client: TestClient, web_store: Settings, token_for: Callable[..., str]
) -> None:
    auth = _bearer(token_for("analyst", "imports:write"))
    files = {"file": ("客户.csv", CSV.encode("gb18030"), "text/csv")}
    data = {"kind": "customers", "source": "crm", "mapping": MAPPING}
    r = client.post("/api/v1/imports", files=files, data=data, headers=auth)
    assert r.status_code == 202, r.text
    body = _wait(client, r.headers["location"], auth)
    assert body["state"] == "done", body
    assert body["encoding"] == "gb18030"
    assert (body["rows_read"], body["rows_accepted"], body["rows_quarantined"]) == (3, 2, 1)
    q = client.get(f"/api/v1/imports/{body['id']}/quarantine", headers=auth)
    lines = q.content.decode("utf-8-sig").strip().splitlines()
    assert lines[0] == "row_number,reason,detail,raw" and lines[1].startswith("2,bad_date")
    # The same file again changes nothing: all duplicates.
    r = client.post("/api/v1/imports", files=files, data=data, headers=auth)
    again = _wait(client, r.headers["location"], auth)
    assert (again["rows_accepted"], again["rows_duplicate"], again["rows_quarantined"]) == (0, 2, 1)
    listed = client.get("/api/v1/imports", headers=auth).json()
    assert [i["id"] for i in listed][:2] == [again["id"], body["id"]]


def test_api_refuses_bad_requests_clearly(
    client: TestClient, web_store: Settings, token_for: Callable[..., str]
) -> None:
    auth = _bearer(token_for("analyst", "imports:write"))
    read_only = _bearer(token_for("analyst", "customers:read"))
    ok_file = {"file": ("a.csv", b"source_record_id\nA\n", "text/csv")}
    r = client.post(
        "/api/v1/imports",
        files=ok_file,
        data={"kind": "customers", "source": "x"},
        headers=read_only,
    )
    assert r.status_code == 403
    r = client.post(
        "/api/v1/imports",
        files={"file": ("a.exe", b"MZ", "x")},
        data={"kind": "customers", "source": "x"},
        headers=auth,
    )
    assert r.status_code == 400 and "file type" in r.json()["detail"]
    r = client.post(
        "/api/v1/imports", files=ok_file, data={"kind": "people", "source": "x"}, headers=auth
    )
    assert r.status_code == 400
    r = client.post(
        "/api/v1/imports",
        files=ok_file,
        data={"kind": "customers", "source": "x", "mapping": "columns: [oops"},
        headers=auth,
    )
    assert r.status_code == 400 and "YAML" in r.json()["detail"], r.text
    # A mapping naming a column the file lacks: the job fails with a clear message, nothing written.
    r = client.post(
        "/api/v1/imports",
        files=ok_file,
        data={"kind": "customers", "source": "x", "mapping": "columns: {source_record_id: 编号}"},
        headers=auth,
    )
    body = _wait(client, r.headers["location"], auth)
    assert body["state"] == "failed" and "编号" in body["message"]
    assert client.get("/api/v1/imports/424242", headers=auth).status_code == 404


def test_pages_upload_preview_start_and_progress(
    web_store: Settings, login_as: Callable[[str], TestClient]
) -> None:
    client = login_as("analyst")
    assert "Import a file" in client.get("/imports").text
    token = csrf_of(client, "/imports")
    files = {"file": ("members.csv", ("\ufeff" + CSV).encode("utf-8"), "text/csv")}
    r = client.post(
        "/imports/upload",
        files=files,
        data={"kind": "customers", "source": "branch", "mapping": MAPPING, "csrf_token": token},
    )
    assert r.status_code == 200, r.text
    assert "陈大文" in r.text and "bad_date" in r.text and "utf-8" in r.text.lower()
    upload_token = r.text.split('name="token" value="')[1].split('"')[0]
    r = client.post(
        "/imports/start",
        data={
            "token": upload_token,
            "kind": "customers",
            "source": "branch",
            "mapping": MAPPING,
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    url = r.headers["location"]
    client.app.state.import_jobs.wait_idle()  # type: ignore[attr-defined]
    page = client.get(url)
    assert "Every row is accounted for" in page.text and "bad_date" in page.text
    csv_text = client.get(url + "/quarantine.csv").content.decode("utf-8-sig")
    assert csv_text.splitlines()[1].startswith("2,bad_date")
    # The upload was removed after the import; it cannot be started twice.
    r = client.post(
        "/imports/start",
        data={"token": upload_token, "kind": "customers", "source": "branch", "csrf_token": token},
    )
    assert r.status_code == 404


def test_viewer_cannot_see_imports(
    web_store: Settings, login_as: Callable[[str], TestClient]
) -> None:
    client = login_as("viewer")
    assert client.get("/imports").status_code == 403
