"""Reading files: every format, the encodings a Chinese user meets, and bad input."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from cxo.imports.errors import ImportFileError
from cxo.imports.readers import Batch, detect_encoding, open_source
from tests.imports.helpers import WRITERS, csv_text, write_csv

HEADER = ["会员号", "姓名", "城市"]
ROWS = [["M1", "陈大文", "上海"], ["M2", "欧阳娜娜", "香港"], ["M3", "Chan Tai Man, Peter", None]]


def read_all(path: Path, **kw: object) -> tuple[list[str], list[Batch]]:
    with open_source(path, **kw) as src:  # type: ignore[arg-type]
        batches = list(src.batches())
        return src.columns, batches


def rows_of(batches: list[Batch]) -> list[tuple[int, list[str | None]]]:
    """Rows as (row number, values); an empty CSV cell reads as "" and counts as missing."""
    out = []
    for b in batches:
        for i in range(b.data.num_rows):
            values = [b.data.column(c)[i].as_py() or None for c in range(b.data.num_columns)]
            out.append((int(b.row_numbers[i]), values))
    return out


def rejected_of(batches: list[Batch]) -> list[tuple[int, str]]:
    return sorted((r.row_number, r.reason) for b in batches for r in b.rejected)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet", "jsonl"])
def test_every_format_reads_the_same_rows(tmp_path: Path, fmt: str) -> None:
    path = WRITERS[fmt](tmp_path / f"members.{fmt}", HEADER, ROWS)
    columns, batches = read_all(path)
    assert columns == HEADER
    assert rows_of(batches) == [(1, ROWS[0]), (2, ROWS[1]), (3, ROWS[2])]


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("gb18030", "gb18030"),
        ("gbk", "gb18030"),
        ("utf-16", "utf-16"),
    ],
)
def test_text_encodings_are_detected(tmp_path: Path, encoding: str, expected: str) -> None:
    path = write_csv(tmp_path / "m.csv", HEADER, ROWS, encoding=encoding)
    assert detect_encoding(path) == expected
    columns, batches = read_all(path)
    assert columns == HEADER
    assert [v for _, v in rows_of(batches)] == ROWS


def test_explicit_encoding(tmp_path: Path) -> None:
    rows = [[f"M{i}", "陳大文", "香港"] for i in range(20)]
    path = write_csv(tmp_path / "m.csv", ["會員號", "姓名", "城市"], rows, encoding="big5")
    # Big5 bytes are (wrong) GB18030 too: only --encoding can tell.
    assert detect_encoding(path) == "gb18030"
    columns, batches = read_all(path, encoding="big5")
    assert columns == ["會員號", "姓名", "城市"]
    assert [v for _, v in rows_of(batches)] == rows
    with pytest.raises(ImportFileError, match="Unknown text encoding"):
        read_all(path, encoding="klingon")


def test_wrong_encoding_names_the_byte_offset(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(b"id,name\n1,abc\n2,\x80\x80\xff\n3,\x80\n4,\x80\n5,\x80\n")
    with pytest.raises(ImportFileError) as info:
        read_all(path)
    assert "byte 16" in info.value.message  # the first byte that is neither UTF-8 nor GB18030


def test_bad_bytes_after_the_sample_quarantine_their_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cxo.imports import readers

    monkeypatch.setattr(readers, "SAMPLE_BYTES", 1000)
    good = csv_text(["id", "name"], [[i, "陈大文"] for i in range(1, 2001)]).encode()
    path = tmp_path / "m.csv"
    path.write_bytes(good + b"2001,\xc3\x28broken\n2002,ok\n" + b"2003,\xff\xfe\n" * 50)
    with open_source(path) as src:
        assert src.encoding == "utf-8"
    _columns, batches = read_all(path)
    assert rejected_of(batches)[0] == (2001, "bad_encoding")
    assert len(rejected_of(batches)) == 51
    numbers = [n for n, _ in rows_of(batches)]
    assert numbers == [*range(1, 2001), 2002]


def test_a_few_bad_bytes_in_a_utf8_file_do_not_stop_it(tmp_path: Path) -> None:
    good = csv_text(["id", "name"], [[i, "陈大文"] for i in range(1, 200)]).encode()
    path = tmp_path / "m.csv"
    path.write_bytes(good + b"200,\xff\n201,ok\n")
    _columns, batches = read_all(path)
    assert rejected_of(batches) == [(200, "bad_encoding")]
    assert rows_of(batches)[-1] == (201, ["201", "ok"])


def test_gb18030_file_with_a_bad_byte_quarantines_that_row(tmp_path: Path) -> None:
    text = csv_text(["id", "name"], [[1, "陈大文"], [2, "李小明"], [3, "王"]])
    data = text.encode("gb18030").replace("李".encode("gb18030"), b"\x81\x20")
    path = tmp_path / "m.csv"
    path.write_bytes(data)
    _columns, batches = read_all(path, encoding="gb18030")
    assert rejected_of(batches) == [(2, "bad_encoding")]
    assert rows_of(batches) == [(1, ["1", "陈大文"]), (3, ["3", "王"])]


def test_ragged_rows_are_rejected_with_their_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    lines = ["a,b,c", "1,2,3", "4,5", '"x\ny",8,9', "7,8,9,10", "", "11,12,13"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _columns, batches = read_all(path)
    assert rejected_of(batches) == [(2, "ragged_row"), (4, "ragged_row")]
    assert [n for n, _ in rows_of(batches)] == [1, 3, 5]
    ragged = next(r for b in batches for r in b.rejected if r.row_number == 4)
    assert '"_extra":["10"]' in ragged.raw and "4 fields" in ragged.detail


def test_ragged_rows_across_many_batches(tmp_path: Path) -> None:
    pad = "x" * 100
    lines = ["a,b"] + [f"{i},{pad}" if i % 97 else f"{i}" for i in range(1, 5001)]
    path = tmp_path / "m.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _columns, batches = read_all(path, batch_rows=500)
    assert len(batches) > 3
    assert [n for n, _ in rejected_of(batches)] == list(range(97, 5001, 97))
    for number, values in rows_of(batches):
        assert values[0] == str(number)


def test_tsv_and_sniffed_delimiters(tmp_path: Path) -> None:
    tsv = write_csv(tmp_path / "m.tsv", HEADER, ROWS, delimiter="\t")
    semi = write_csv(tmp_path / "m.txt", HEADER, ROWS, delimiter=";")
    for path in (tsv, semi):
        columns, batches = read_all(path)
        assert columns == HEADER and [v for _, v in rows_of(batches)] == ROWS


def test_blank_and_repeated_header_names_get_names(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", ["id", "", "id", " name "], [[1, 2, 3, 4]])
    columns, batches = read_all(path)
    assert columns == ["id", "column_2", "id_2", "name"]
    assert rows_of(batches) == [(1, ["1", "2", "3", "4"])]


def test_jsonl_bad_lines_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_bytes(
        b'{"id": "1", "n": 5, "ok": true, "tags": ["a"]}\n'
        b"not json\n"
        b"\n"
        b"[1, 2]\n"
        b'{"id": "4", "late": "x"}\n'
        b'{"id": "\xff"}\n'
    )
    columns, batches = read_all(path)
    assert columns == ["id", "n", "ok", "tags", "late"]
    assert rows_of(batches) == [
        (1, ["1", "5", "true", '["a"]', None]),
        (4, ["4", None, None, None, "x"]),
    ]
    assert rejected_of(batches) == [(2, "bad_json"), (3, "bad_json"), (5, "bad_encoding")]


def test_jsonl_columns_come_from_the_first_batch(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text('{"id": "1"}\n{"id": "2"}\n{"id": "3", "late": "x"}\n', encoding="utf-8")
    with open_source(path, batch_rows=2) as src:
        batches = list(src.batches())
        assert src.columns == ["id"] and src.extra_columns == ["late"]
    assert rows_of(batches) == [(1, ["1"]), (2, ["2"]), (3, ["3"])]


def test_xlsx_cells_become_text_and_sheets_are_chosen(tmp_path: Path) -> None:
    import datetime as dt

    from tests.imports.helpers import write_xlsx

    rows = [
        ["M1", 8613812345678, dt.datetime(2000, 10, 26), 3757.05, True],
        ["M2", 91234567.0, dt.datetime(2024, 1, 2, 3, 4, 5), None, None],
    ]
    path = write_xlsx(
        tmp_path / "m.xlsx", ["id", "phone", "when", "amount", "vip"], rows, "Members"
    )
    _columns, batches = read_all(path, sheet="Members")
    assert rows_of(batches) == [
        (1, ["M1", "8613812345678", "2000-10-26", "3757.05", "true"]),
        (2, ["M2", "91234567", "2024-01-02 03:04:05", None, None]),
    ]
    with pytest.raises(ImportFileError, match="no sheet 'Other'") as info:
        read_all(path, sheet="Other")
    assert "'Members'" in (info.value.hint or "")


def test_xlsx_extra_cells_are_ragged(tmp_path: Path) -> None:
    from tests.imports.helpers import write_xlsx

    path = write_xlsx(tmp_path / "m.xlsx", ["a", "b"], [["1", "2"], [], ["3", "4", "extra"]])
    _columns, batches = read_all(path)
    assert rows_of(batches) == [(1, ["1", "2"])]
    assert rejected_of(batches) == [(2, "ragged_row")]


def test_parquet_types_become_text(tmp_path: Path) -> None:
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "id": pa.array([1, 2]),
            "at": pa.array([dt.datetime(2025, 1, 1, 8), None], pa.timestamp("ns")),
            "day": pa.array([dt.date(2000, 1, 2), None]),
            "amount": pa.array([3757.05, 2.0]),
            "flag": pa.array([True, False]),
            "raw": pa.array([b"ok", b"\xff"], pa.binary()),
        }
    )
    pq.write_table(table, tmp_path / "m.parquet")
    _columns, batches = read_all(tmp_path / "m.parquet")
    assert rows_of(batches) == [
        (1, ["1", "2025-01-01T08:00:00Z", "2000-01-02", "3757.05", "true", "ok"])
    ]
    assert rejected_of(batches) == [(2, "bad_encoding")]


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("empty.csv", b"", "is empty"),
        ("notes.doc", b"x", "unknown file type"),
        ("blank.csv", codecs.BOM_UTF8 + b"\n\n", "no header row"),
        ("broken.xlsx", b"not a zip", "as an Excel workbook"),
        ("broken.parquet", b"not parquet", "as a Parquet file"),
    ],
)
def test_unusable_files_say_why(tmp_path: Path, name: str, content: bytes, fragment: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFileError) as info:
        read_all(path)
    assert fragment in info.value.message and info.value.hint


def test_missing_file_folder_and_too_big(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="does not exist"):
        read_all(tmp_path / "nope.csv")
    with pytest.raises(ImportFileError, match="is a folder"):
        read_all(tmp_path)
    path = write_csv(tmp_path / "m.csv", HEADER, ROWS)
    with pytest.raises(ImportFileError, match="more than the 10 bytes allowed") as info:
        read_all(path, max_bytes=10)
    assert "CXO_IMPORT_MAX_BYTES" in (info.value.hint or "")


def test_sha256_and_progress(tmp_path: Path) -> None:
    import hashlib

    path = write_csv(tmp_path / "m.csv", ["a"], [[i] for i in range(5000)])
    with open_source(path, batch_rows=500) as src:
        positions = [b.position for b in src.batches()]
        assert src.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert positions == sorted(positions) and positions[-1] == path.stat().st_size


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_a_ragged_row_with_bad_bytes(tmp_path: Path, encoding: str) -> None:
    good = "".join(f"{i},{'陈' * 50}\n" for i in range(1, 3001)).encode(encoding)
    path = tmp_path / "m.csv"
    path.write_bytes(b"a,b\n" + good + b"3001,\xff,3\n3002,y\n3003,\xfe\n")
    _columns, batches = read_all(path, encoding=encoding, batch_rows=500)
    assert rejected_of(batches) == [(3001, "ragged_row"), (3003, "bad_encoding")]
    assert [n for n, _ in rows_of(batches)] == [*range(1, 3001), 3002]


def test_jsonl_in_gb18030_with_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    lines = ['{"id": "1", "name": "陈大文"}', '{"id": "2", "name": "李"}']
    data = "\n".join(lines).encode("gb18030") + b'\n{"id": "3", "name": "\x81\x20"}\n'
    path.write_bytes(data)
    _columns, batches = read_all(path, encoding="gb18030")
    assert rows_of(batches) == [(1, ["1", "陈大文"]), (2, ["2", "李"])]
    assert rejected_of(batches) == [(3, "bad_encoding")]
