"""`cxo import …` through Typer's CliRunner, and one real process for the root CLI's error line."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxo.errors import CxoError
from cxo.imports import cli
from cxo.settings import Settings
from tests.imports.helpers import write_csv
from tests.test_cli import cxo

runner = CliRunner()
HEADER = ["会员号", "姓名", "手机"]
ROWS = [
    ["M1", "陈大文", "13812345678"],
    ["M2", "李小明", "138-CALL-NOW"],
    ["M1", "陈大文", "13812345678"],
]
MAPPING = """\
kind: customers
source: branch
columns:
  source_record_id: 会员号
  full_name: 姓名
  family_name: {split: 姓名, part: family}
  given_name: {split: 姓名, part: given}
  phone: {column: 手机, region: CN}
"""


@pytest.fixture
def cli_store(store: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setattr(cli, "get_settings", lambda: store)
    return store


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    data = write_csv(tmp_path / "会员.csv", HEADER, ROWS, encoding="gb18030")
    mapping = tmp_path / "branch.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return data, mapping


def test_import_prints_a_reconciled_summary(cli_store: Settings, files: tuple[Path, Path]) -> None:
    data, mapping = files
    result = runner.invoke(cli.app, ["customers", str(data), "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Import 1: customers from branch" in out
    for label, n in [("Read", 3), ("Accepted", 1), ("Quarantined", 1), ("Duplicates", 1)]:
        assert any(label in line and f" {n} " in line for line in out.splitlines()), label
    assert "bad_phone" in out and "gb18030" in out
    assert "cxo import quarantine 1 --out quarantine-1.csv" in out

    again = runner.invoke(cli.app, ["customers", str(data), "-m", str(mapping)])
    assert again.exit_code == 0 and "The same file was imported before (import 1)" in again.output


def test_list_and_quarantine_download(
    cli_store: Settings, files: tuple[Path, Path], tmp_path: Path
) -> None:
    data, mapping = files
    runner.invoke(cli.app, ["customers", str(data), "--mapping", str(mapping)])
    listed = runner.invoke(cli.app, ["list"])
    assert listed.exit_code == 0 and "branch" in listed.output and "done" in listed.output

    out = tmp_path / "q.csv"
    result = runner.invoke(cli.app, ["quarantine", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads the Chinese
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [(r["row_number"], r["reason"]) for r in rows] == [("2", "bad_phone")]
    assert "李小明" in rows[0]["raw"] and "手机" in rows[0]["detail"]

    stdout = runner.invoke(cli.app, ["quarantine", "1"])
    assert stdout.exit_code == 0 and stdout.stdout.startswith("row_number,reason,detail,raw")


def test_errors_are_cxo_errors_for_the_root_cli(
    cli_store: Settings, files: tuple[Path, Path], tmp_path: Path
) -> None:
    data, _ = files
    missing = runner.invoke(cli.app, ["customers", str(tmp_path / "nope.csv"), "-s", "crm"])
    assert isinstance(missing.exception, CxoError) and "does not exist" in str(missing.exception)
    no_source = runner.invoke(cli.app, ["customers", str(data)])
    assert isinstance(no_source.exception, CxoError)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("columns:\n  source_record_id: member_no\n", encoding="utf-8")
    bad_mapping = runner.invoke(cli.app, ["customers", str(data), "-s", "b", "-m", str(wrong)])
    assert isinstance(bad_mapping.exception, CxoError)
    assert "'member_no'" in str(bad_mapping.exception)
    assert "'会员号'" in (bad_mapping.exception.hint or "")  # type: ignore[attr-defined]
    unknown = runner.invoke(cli.app, ["quarantine", "99"])
    assert isinstance(unknown.exception, CxoError) and "No import with id 99" in str(
        unknown.exception
    )


def test_the_real_cli_shows_one_line_and_a_hint(template_store: Path, tmp_path: Path) -> None:
    from tests.conftest import copy_store

    home = tmp_path / "home"
    copy_store(template_store, home)
    path = tmp_path / "bad.csv"
    path.write_bytes(b"id,name\n1,\x80\x80\xff\n2,\x80\n3,\x80\n4,\x80\n")
    r = cxo(home, "import", "customers", str(path), "--source", "crm")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith("Error: cannot tell the text encoding of bad.csv")
    assert "Hint:" in r.stderr and "--encoding" in r.stderr
    ok = write_csv(tmp_path / "ok.csv", ["source_record_id", "email"], [["1", "a@b.cn"]])
    r = cxo(home, "import", "customers", str(ok), "--source", "crm")
    assert r.returncode == 0 and "Accepted" in r.stdout
