"""Response export (CSV, Excel, SPSS) and export → import round trips."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from cxo.errors import Conflict, NotFound
from cxo.settings import Settings
from cxo.store.engine import connect
from cxo.surveys.codebook import RESERVED, codebook
from cxo.surveys.exchange import Selection, export_responses
from cxo.surveys.exchange_import import import_wide
from cxo.surveys.models import answers, responses, surveys
from cxo.surveys.quality_service import analysis_response_ids
from cxo.surveys.yamlio import parse_and_compile
from tests.conftest import copy_store
from tests.surveys.exchange_helpers import (
    CODE,
    SPEC,
    add_responses,
    answer_set,
    make_survey,
    stored_answers,
)

SPSS_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.@#$]{0,63}$")


def _export(settings: Settings, out: Path, **kw: Any) -> Any:
    with connect(settings) as conn:
        return export_responses(conn, CODE, out, **kw)


def _count(settings: Settings, table: sa.Table) -> int:
    with connect(settings) as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "sav"])
def test_export_then_import_round_trips(
    store: Settings, template_store: Path, tmp_path: Path, fmt: str
) -> None:
    ids = add_responses(store, make_survey(store), 13)
    out = tmp_path / f"responses.{fmt}"
    summary = _export(store, out)
    assert summary.rows == 13 and out.exists()

    other = copy_store(template_store, tmp_path / "other")
    make_survey(other)
    first = import_wide(other, code=CODE, path=out, source="fieldwork", actor="test")
    assert (first.read, first.accepted, first.quarantined, first.duplicates) == (13, 13, 0, 0)
    # The answers arrive unchanged, keyed by the exported response id.
    expected = {str(rid): answer_set(i) for i, rid in enumerate(ids)}
    assert stored_answers(other, "fieldwork") == expected
    with connect(other) as conn:
        got = conn.execute(
            sa.select(
                responses.c.source_record_id,
                responses.c.customer_record_id,
                responses.c.locale,
                responses.c.started_at,
                responses.c.channel,
            ).order_by(responses.c.id)
        ).all()
    assert [r.customer_record_id for r in got] == [f"C{i:04d}" for i in range(13)]
    assert [r.locale for r in got] == ["zh_CN" if i % 2 else "en" for i in range(13)]
    assert {r.channel for r in got} == {"import"}

    n_answers, n_responses = _count(other, answers), _count(other, responses)
    again = import_wide(other, code=CODE, path=out, source="fieldwork", actor="test")
    assert (again.accepted, again.quarantined, again.duplicates) == (0, 0, 13)
    assert again.previous_import_id == first.import_id
    assert (_count(other, answers), _count(other, responses)) == (n_answers, n_responses)

    # Exporting the copy gives the same item columns again.
    back = tmp_path / "back.csv"
    _export(other, back)
    _export(store, tmp_path / "orig.csv")
    orig = list(csv.DictReader((tmp_path / "orig.csv").open(encoding="utf-8-sig")))
    copy = list(csv.DictReader(back.open(encoding="utf-8-sig")))
    items = [c for c in orig[0] if c not in {"response_id", "source_record_id", "channel"}]
    assert [{c: r[c] for c in items} for r in copy] == [{c: r[c] for c in items} for r in orig]


def test_sav_labels_read_back_with_pyreadstat(store: Settings, tmp_path: Path) -> None:
    import pyreadstat

    add_responses(store, make_survey(store), 4)
    out = tmp_path / "r.sav"
    _export(store, out, locale="zh_CN")
    data, meta = pyreadstat.read_sav(str(out))
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert (
        labels["sq01_imp"].startswith("银行的设备和技术是最新的") and "重要性" in labels["sq01_imp"]
    )
    assert labels["sq01_perf"].endswith("(表现)")
    assert labels["reason"] == "主要原因？"
    assert labels["channels_3"] == "使用的渠道: 手机银行"
    vl = meta.variable_value_labels
    assert vl["reason"] == {1.0: "等待", 2.0: "员工", -1.0: "其他"}
    assert vl["channels_3"] == {0.0: "未选", 1.0: "已选"}
    assert set(vl["nps"]) == {0.0, 10.0} and all(vl["nps"].values())
    assert min(vl["sq01_perf"]) == 1.0 and max(vl["sq01_perf"]) == 7.0
    measure = meta.variable_measure
    assert (measure["reason"], measure["sq01_imp"], measure["effort"]) == (
        "nominal",
        "ordinal",
        "scale",
    )
    types = meta.readstat_variable_types
    assert types["comment"] == "string" and types["nps"] == "double"
    assert list(data["nps"]) == [0.0, 1.0, 2.0, 3.0]
    assert data["comment"][0] == "=1+1 公式"
    assert str(data["started_at"][1]) == "2025-03-01 09:00:00"
    assert meta.file_label == "网点服务回访"


def test_csv_and_excel_are_formula_safe_with_a_codebook(store: Settings, tmp_path: Path) -> None:
    import openpyxl

    add_responses(store, make_survey(store), 2)
    _export(store, tmp_path / "r.csv")
    raw = (tmp_path / "r.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines(keepends=True)))
    assert rows[0]["comment"] == "'=1+1 公式" and rows[0]["started_at"] == "2025-03-01T08:00:00Z"
    assert rows[0]["duration_s"] == "300"

    _export(store, tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert book.sheetnames == ["responses", "codebook"]
    sheet = book["responses"]
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("comment") + 1)
    assert cell.value == "=1+1 公式" and cell.data_type == "s"
    codes = {r[0]: r for r in book["codebook"].iter_rows(min_row=2, values_only=True)}
    assert (
        codes["reason"][1] == "Main reason?"
        and codes["reason"][6] == "1 = Wait; 2 = Staff; -1 = Other"
    )
    assert codes["sq05_perf"][4:6] == ("sq05", "performance")


def test_flagged_and_partial_responses_are_left_out_unless_asked(
    any_store: Settings, tmp_path: Path
) -> None:
    sid = make_survey(any_store)
    clean = add_responses(any_store, sid, 3)
    flagged = add_responses(any_store, sid, 1, start=3, quality_flags={"speeding": {"seconds": 9}})
    kept = add_responses(
        any_store, sid, 1, start=4, quality_flags={"speeding": {}}, include_override=True
    )
    dropped = add_responses(any_store, sid, 1, start=5, include_override=False)
    partial = add_responses(any_store, sid, 1, start=6, state="in_progress", completed_at=None)
    unchecked = add_responses(any_store, sid, 1, start=7, quality_flags=None)

    def exported(**kw: Any) -> list[int]:
        out = tmp_path / "x.csv"
        _export(any_store, out, selection=Selection(**kw))
        return [int(r["response_id"]) for r in csv.DictReader(out.open(encoding="utf-8-sig"))]

    default = clean + kept + unchecked
    assert exported() == default
    assert exported(include_flagged=True) == clean + flagged + kept + dropped + unchecked
    assert exported(include_partial=True) == sorted(default + partial)
    with connect(any_store) as conn:
        assert analysis_response_ids(conn, survey_code=CODE) == default
        assert analysis_response_ids(conn, survey_code=CODE, include_flagged=True) == sorted(
            clean + flagged + kept + dropped + unchecked
        )
    summary = _export(any_store, tmp_path / "y.csv")
    assert (summary.skipped_flagged, summary.skipped_partial, summary.unchecked) == (2, 1, 1)
    with (tmp_path / "y.csv").open(encoding="utf-8-sig") as fh:
        row = next(r for r in csv.DictReader(fh) if r["response_id"] == str(kept[0]))
    assert row["quality_flags"] == "speeding"


def test_variable_names_are_valid_unique_spss_names() -> None:
    spec = SPEC.replace("code: reason", "code: to").replace("code: effort", "code: channels_3")
    _, comp = parse_and_compile(spec)
    names = [v.name for v in codebook([comp])]
    assert len(set(n.casefold() for n in names)) == len(names)
    for name in names:
        assert SPSS_NAME.match(name) and name.upper() not in RESERVED, name
    assert "to_" in names
    # the slider channels_3 and the multiple-choice dummy channels_3 both exist, renamed apart
    assert {"channels_3", "channels_3_2"} <= set(names)
    neg = SPEC.replace("{value: 3, label", "{value: -3, label")
    assert "channels_m3" in [v.name for v in codebook([parse_and_compile(neg)[1]])]


def test_unknown_survey_and_survey_without_definition(store: Settings, tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        _export(store, tmp_path / "x.csv")
    with connect(store, write=True) as conn:
        conn.execute(
            surveys.insert().values(
                code=CODE, version=1, title={"en": "x"}, definition={}, state="closed"
            )
        )
    with pytest.raises(Conflict, match="no definition"):
        _export(store, tmp_path / "x.csv")


def test_export_cli(store: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from cxo.errors import CxoError
    from cxo.surveys import exchange_cli

    sid = make_survey(store)
    add_responses(store, sid, 3)
    add_responses(store, sid, 1, start=3, quality_flags={"duplicate": {"of": 1}})
    add_responses(store, sid, 1, start=4, quality_flags=None)
    monkeypatch.setattr(exchange_cli, "get_settings", lambda: store)
    out = tmp_path / "r.sav"
    result = CliRunner().invoke(
        exchange_cli.app, ["export-responses", CODE, "--out", str(out), "--locale", "zh_CN"]
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # the console wraps long lines
    assert "Wrote 4 responses and 32 columns" in text
    assert "Left out 1 flagged responses" in text
    assert "1 responses have not been checked" in text and "quality branch_visit" in text
    bad = CliRunner().invoke(exchange_cli.app, ["export-responses", CODE, "--out", "x.pdf"])
    assert isinstance(bad.exception, CxoError) and ".sav" in bad.exception.message
