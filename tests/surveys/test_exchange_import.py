"""Wide response imports: quarantine reasons, mapping errors, conflicts, every row accounted for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cxo.errors import Conflict
from cxo.imports.errors import ImportFileError
from cxo.imports.models import import_quarantine, imports
from cxo.settings import Settings
from cxo.store.engine import connect, dispose_engines
from cxo.surveys import exchange_cli
from cxo.surveys.exchange_import import import_wide
from cxo.surveys.exchange_mapping import WideMapping, parse_wide_mapping
from cxo.surveys.models import answers, responses, surveys
from tests.conftest import copy_store, make_settings
from tests.imports.helpers import write_csv, write_xlsx
from tests.surveys.exchange_helpers import CODE, make_survey, stored_answers

HEADER = ["response_id", "customer_ref", "started_at", "sq01_imp", "nps", "reason", "comment"]


def _import(settings: Settings, path: Path, mapping: Any = None, **kw: Any) -> Any:
    parsed = parse_wide_mapping(mapping) if isinstance(mapping, dict) else mapping
    return import_wide(
        settings, code=CODE, path=path, source="ext", actor="test", mapping=parsed, **kw
    )


def _quarantine(settings: Settings, import_id: int) -> list[tuple[int, str, str, str]]:
    q = import_quarantine.c
    with connect(settings) as conn:
        rows = conn.execute(
            sa.select(q.row_number, q.reason, q.detail, q.raw)
            .where(q.import_id == import_id)
            .order_by(q.row_number)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def _count(settings: Settings, table: sa.Table) -> int:
    with connect(settings) as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_bad_values_quarantine_the_whole_row_with_a_reason(store: Settings, tmp_path: Path) -> None:
    make_survey(store)
    rows = [
        ["A1", "C1", "2025-03-01 08:00", "7", "10", "1", "fine"],  # good
        ["A2", "C2", "2025-03-01 08:00", "9", "10", "1", ""],  # outside 1–7
        ["A3", "C3", "2025-03-01 08:00", "5", "10", "4", ""],  # no option 4
        ["A4", "C4", "2025-03-01 08:00", "five", "10", "1", ""],  # not a number
        ["A5", "C5", "yesterday", "5", "10", "1", ""],  # not a time
        ["", "C6", "2025-03-01 08:00", "5", "10", "1", ""],  # no response id
        ["A7", "C7", "2025-03-01 08:00", "", "", "", ""],  # nothing answered
        ["A8", "C8", "2025-03-01 08:00", "4", "7.5", "Staff", ""],  # NPS 7.5 is not a step
        ["A9", "C9", "2025-03-01 08:00", "4", "3", "员工", ""],  # an option's label: fine
    ]
    path = write_csv(tmp_path / "wide.csv", HEADER, rows)
    s = _import(store, path)
    assert (s.read, s.accepted, s.quarantined, s.duplicates) == (9, 2, 7, 0)
    got = {(n, reason): detail for n, reason, detail, _ in _quarantine(store, s.import_id)}
    assert set(got) == {
        (2, "out_of_range"),
        (3, "bad_value"),
        (4, "bad_number"),
        (5, "bad_timestamp"),
        (6, "missing_required"),
        (7, "no_answers"),
        (8, "out_of_range"),
    }
    assert got[(2, "out_of_range")] == "sq01_imp: 9 is outside the scale 1–7"
    assert got[(3, "bad_value")].startswith("reason: 4 is not one of the options")
    assert "sq01_imp" in got[(4, "bad_number")] and "'five'" in got[(4, "bad_number")]
    raw = json.loads(_quarantine(store, s.import_id)[0][3])
    assert raw["response_id"] == "A2" and raw["sq01_imp"] == "9"
    stored = stored_answers(store, "ext")
    assert set(stored) == {"A1", "A9"}  # nothing of a quarantined row was written
    assert stored["A9"][("reason", "single")] == 2.0
    assert stored["A1"] == {
        ("sq01", "importance"): 7.0,
        ("nps", "single"): 10.0,
        ("reason", "single"): 1.0,
        ("comment", "single"): "fine",
    }
    assert s.reasons == {
        "bad_number": 1,
        "bad_timestamp": 1,
        "bad_value": 1,
        "missing_required": 1,
        "no_answers": 1,
        "out_of_range": 2,
    }


def test_mapping_mistakes_fail_before_anything_is_written(store: Settings, tmp_path: Path) -> None:
    make_survey(store)
    path = write_csv(tmp_path / "wide.csv", ["ID", "Q1", "Q2"], [["1", "5", "7"]])
    cases = [
        ({"fields": {"response_id": "ID"}, "columns": {"Q1": "sq99"}}, "does not ask"),
        ({"fields": {"response_id": "ID"}, "columns": {"Q1": "sq01"}}, "several scales"),
        (
            {
                "fields": {"response_id": "ID"},
                "columns": {"Q1": {"item": "nps", "scale": "importance"}},
            },
            "not asked on the scale",
        ),
        ({"fields": {"response_id": "ID"}, "columns": {"Q9": "nps"}}, "no column 'Q9'"),
        ({"fields": {"response_id": "ID"}, "columns": {"Q1": "nps", "Q2": "nps"}}, "both give"),
        ({"columns": {"Q1": "nps"}}, "No column gives the response id"),
        ({"fields": {"response_id": "ID"}}, "No column of the file gives an answer"),
        ({"fields": {"respondent": "ID"}}, "field responses do not have"),
        ({"columnz": {}}, "unknown keys"),
    ]
    for mapping, message in cases:
        with pytest.raises(ImportFileError, match=message) as info:
            _import(store, path, mapping)
        assert "\n" not in info.value.message
    assert _count(store, imports) == 0 and _count(store, answers) == 0
    good = {
        "fields": {"response_id": "ID"},
        "columns": {"Q1": {"item": "sq01", "scale": "performance"}, "Q2": "nps"},
    }
    s = _import(store, path, good)
    assert s.accepted == 1
    assert stored_answers(store, "ext") == {
        "1": {("sq01", "performance"): 5.0, ("nps", "single"): 7.0}
    }


def test_survey_needs_a_definition(store: Settings, tmp_path: Path) -> None:
    with connect(store, write=True) as conn:
        conn.execute(
            surveys.insert().values(
                code=CODE, version=1, title={"en": "x"}, definition={}, state="closed"
            )
        )
    path = write_csv(tmp_path / "wide.csv", HEADER, [["A1", "", "", "5", "", "", ""]])
    with pytest.raises(Conflict, match="no definition"):
        _import(store, path)


def test_gb18030_file_with_a_chinese_mapping_and_excel(store: Settings, tmp_path: Path) -> None:
    make_survey(store)
    header = ["编号", "客户", "开始", "推荐", "渠道_网点", "意见"]
    rows = [
        ["W1", "客1", "01/03/2025 08:00", "9", "1", "很好，谢谢"],
        ["W2", "客2", "02/03/2025 09:30", "0", "0", ""],
    ]
    mapping = {
        "fields": {
            "response_id": "编号",
            "customer_ref": "客户",
            "started_at": {"column": "开始", "format": "%d/%m/%Y %H:%M"},
        },
        "columns": {"推荐": "nps", "渠道_网点": "channels.1", "意见": "comment"},
    }
    path = write_csv(tmp_path / "调查.csv", header, rows, encoding="gb18030")
    s = _import(store, path, mapping)
    assert (s.encoding, s.accepted) == ("gb18030", 2)
    assert stored_answers(store, "ext")["W1"][("comment", "single")] == "很好，谢谢"
    with connect(store) as conn:
        started = conn.execute(
            sa.select(responses.c.started_at).where(responses.c.source_record_id == "W2")
        ).scalar_one()
    assert (started.day, started.month, started.hour, started.minute) == (2, 3, 9, 30)
    xlsx = write_xlsx(tmp_path / "调查.xlsx", header, rows)
    again = _import(store, xlsx, mapping)
    assert (again.accepted, again.duplicates) == (0, 2)


def test_a_changed_value_is_a_conflict_named_by_its_row(
    any_store: Settings, tmp_path: Path
) -> None:
    make_survey(any_store)
    rows = [
        ["A1", "C1", "2025-03-01 08:00", "5", "9", "1", ""],
        ["A2", "C2", "2025-03-01 08:00", "6", "9", "2", ""],
    ]
    first = _import(any_store, write_csv(tmp_path / "a.csv", HEADER, rows))
    assert first.accepted == 2
    rows[1][3] = "7"  # A2 now says sq01_imp = 7
    rows.append(["A3", "C3", "2025-03-01 08:00", "1", "0", "1", ""])
    rows.append(["A3", "C3", "2025-03-01 08:00", "1", "0", "1", ""])  # repeated in the file
    second = _import(any_store, write_csv(tmp_path / "b.csv", HEADER, rows))
    assert (second.read, second.accepted, second.quarantined, second.duplicates) == (4, 1, 1, 2)
    assert second.duplicates_in_file == 1
    (row,) = _quarantine(any_store, second.import_id)
    assert row[:2] == (2, "conflict") and "A2" in row[2] and "sq01" in row[2]
    assert json.loads(row[3])["sq01_imp"] == "7"
    assert stored_answers(any_store, "ext")["A2"][("sq01", "importance")] == 6.0


def test_in_progress_state_and_the_cli(
    store: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_survey(store)
    monkeypatch.setattr(exchange_cli, "get_settings", lambda: store)
    path = write_csv(
        tmp_path / "w.csv",
        ["response_id", "state", "nps", "sq01_perf"],
        [["P1", "in_progress", "5", ""], ["P2", "completed", "8", "12"]],
    )
    result = CliRunner().invoke(
        exchange_cli.app, ["import-responses", CODE, str(path), "--source", "ext"]
    )
    assert result.exit_code == 0, result.output
    assert "out_of_range" in result.output and "Quarantined" in result.output
    with connect(store) as conn:
        got = dict(conn.execute(sa.select(responses.c.source_record_id, responses.c.state)).all())
    assert got == {"P1": "in_progress"}
    bad = CliRunner().invoke(
        exchange_cli.app,
        [
            "import-responses",
            CODE,
            str(path),
            "--source",
            "ext",
            "--mapping",
            str(tmp_path / "none.yaml"),
        ],
    )
    assert bad.exit_code != 0


# -- every row accounted for --------------------------------------------------------------------

CELL = st.one_of(
    st.sampled_from(["1", "4", "7", "", "0", "8", "x", " 3 ", "2.0"]),
    st.integers(-2, 12).map(str),
)
ROW = st.tuples(
    st.sampled_from(["", "R1", "R2", "R3", "R4", "R5"]),
    CELL,
    CELL,
    st.sampled_from(["", "1", "2", "-1", "5", "Wait"]),
)


def _expected_bad(row: tuple[str, str, str, str]) -> bool:
    rid, imp, nps, reason = row

    def bad_num(text: str, low: float, high: float) -> bool:
        t = text.strip()
        if not t:
            return False
        try:
            x = float(t)
        except ValueError:
            return True
        return not (low <= x <= high and x.is_integer())

    if not rid:
        return True
    if not (imp.strip() or nps.strip() or reason.strip()):
        return True
    return (
        bad_num(imp, 1, 7)
        or bad_num(nps, 0, 10)
        or reason.strip() not in ("", "1", "2", "-1", "Wait")
    )


@hsettings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=st.lists(ROW, min_size=1, max_size=12), second=st.lists(ROW, min_size=1, max_size=12))
def test_every_row_is_accepted_a_duplicate_or_quarantined_with_its_number(
    template_store: Path,
    tmp_path_factory: pytest.TempPathFactory,
    first: list[Any],
    second: list[Any],
) -> None:
    home = tmp_path_factory.mktemp("prop")
    copy_store(template_store, home)
    settings = make_settings(home, import_batch_rows=4)
    make_survey(settings)
    try:
        for k, rows in enumerate((first, second)):
            path = write_csv(home / f"f{k}.csv", ["response_id", "sq01_imp", "nps", "reason"], rows)
            s = _import(settings, path)
            assert s.read == len(rows) == s.accepted + s.quarantined + s.duplicates
            numbers = [n for n, *_ in _quarantine(settings, s.import_id)]
            assert len(numbers) == len(set(numbers)) == s.quarantined
            pre = {i + 1 for i, r in enumerate(rows) if _expected_bad(r)}
            assert pre <= set(numbers)  # bad rows are quarantined…
            assert all(
                reason != "conflict"
                for n, reason, *_ in _quarantine(settings, s.import_id)
                if n in pre
            )
            conflicts = set(numbers) - pre  # …and the rest only as conflicts
            assert all(
                reason == "conflict"
                for n, reason, *_ in _quarantine(settings, s.import_id)
                if n in conflicts
            )
        before = (_count(settings, answers), _count(settings, responses))
        again = _import(settings, path)
        assert again.accepted == 0
        assert (_count(settings, answers), _count(settings, responses)) == before
    finally:
        dispose_engines()


def test_mapping_round_trips_to_dict() -> None:
    m = parse_wide_mapping(
        {
            "source": "x",
            "fields": {"response_id": "ID", "started_at": {"column": "S", "format": "%d"}},
            "columns": {"A": "nps", "B": {"item": "sq01", "scale": "importance"}, "C": None},
        }
    )
    assert parse_wide_mapping(m.to_dict()) == m
    assert WideMapping().to_dict() == {"fields": {}, "columns": {}}
