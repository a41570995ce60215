"""Mapping files: parsing, and checking against an import kind and a file's columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxo.imports.errors import ImportFileError
from cxo.imports.mapping import Rule, load_mapping, loads_mapping, parse_mapping, plan

BRANCH = """\
kind: customers          # optional; must match the command when given
source: branch
encoding: gb18030
sheet: Members
columns:
  source_record_id: 会员号
  full_name: {column: member_name}
  family_name: {split: member_name, part: family, order: auto}
  given_name: {split: member_name, part: given, order: auto}
  birth_date: {column: birthday, format: "%d/%m/%Y"}
  country: {column: home_branch, map: {Shanghai: CN, Hong Kong: HK, Oslo: NO}}
  phone: {column: mobile, region: HK}
  email: {column: Email}
  language: {value: Cantonese}
  city: {column: City, lower: false, strip: true}
  loyalty_no: 0123
"""
COLUMNS = ["会员号", "member_name", "birthday", "home_branch", "mobile", "Email", "City", "0123"]


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_bytes(text.encode(encoding))
    return path


def test_the_documented_example_parses(tmp_path: Path) -> None:
    m = load_mapping(write(tmp_path, BRANCH))
    assert (m.kind, m.source, m.encoding, m.sheet) == ("customers", "branch", "gb18030", "Members")
    assert m.columns["source_record_id"] == Rule(column="会员号")
    assert m.columns["family_name"] == Rule(split="member_name", part="family")
    assert m.columns["birth_date"] == Rule(column="birthday", format="%d/%m/%Y")
    # YAML 1.1 would read NO as false and 0123 as 83; every scalar stays text.
    assert m.columns["country"].map == {"Shanghai": "CN", "Hong Kong": "HK", "Oslo": "NO"}
    assert m.columns["loyalty_no"] == Rule(column="0123")
    assert m.columns["language"] == Rule(value="Cantonese")
    assert m.columns["phone"] == Rule(column="mobile", region="HK")
    p = plan(m, "customers", COLUMNS)
    assert p.rules["city"] == Rule(column="City")
    assert p.unmapped == ()
    assert set(p.describe()) == {
        "source_record_id",
        "full_name",
        "family_name",
        "given_name",
        "birth_date",
        "country",
        "phone",
        "email",
        "language",
        "city",
        "loyalty_no",
    }


def test_gb18030_mapping_file(tmp_path: Path) -> None:
    m = load_mapping(write(tmp_path, BRANCH, "gb18030"))
    assert m.columns["source_record_id"] == Rule(column="会员号")


def test_without_a_mapping_columns_named_like_fields_map(tmp_path: Path) -> None:
    p = plan(None, "customers", ["Source Record ID", "E-mail", "FAMILY_NAME", "notes", "email"])
    assert p.rules["source_record_id"] == Rule(column="Source Record ID")
    assert p.rules["family_name"] == Rule(column="FAMILY_NAME")
    assert p.rules["email"] == Rule(column="E-mail")  # the first that matches
    assert p.unmapped == ("notes", "email")
    assert set(p.auto) == {"source_record_id", "family_name", "email"}


def test_a_field_mapped_to_null_is_left_out() -> None:
    m = parse_mapping({"columns": {"email": None}})
    p = plan(m, "customers", ["source_record_id", "email"])
    assert "email" not in p.rules and p.unmapped == ("email",)


def test_missing_columns_are_named_with_the_available_ones() -> None:
    m = parse_mapping({"columns": {"source_record_id": "会员号", "phone": "mobile"}})
    with pytest.raises(ImportFileError) as info:
        plan(m, "customers", ["member_no", "tel"])
    assert "'mobile'" in info.value.message and "'会员号'" in info.value.message
    assert "'member_no', 'tel'" in (info.value.hint or "")


def test_unknown_fields_list_the_valid_ones() -> None:
    m = parse_mapping({"columns": {"source_record_id": "id", "shoe_size": "size"}})
    with pytest.raises(ImportFileError) as info:
        plan(m, "customers", ["id", "size"])
    assert "shoe_size" in info.value.message
    assert "family_name" in (info.value.hint or "")


def test_kind_must_match() -> None:
    with pytest.raises(ImportFileError, match="is for customers, not interactions"):
        plan(parse_mapping({"kind": "customers"}), "interactions", ["source_record_id"])


def test_required_fields_must_be_mapped() -> None:
    with pytest.raises(ImportFileError, match="required field"):
        plan(None, "interactions", ["source_record_id", "channel"])


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"colums": {}}, "unknown keys: colums"),
        ({"kind": "orders"}, "Unknown import kind"),
        ({"columns": ["a"]}, "must map cxo fields"),
        ({"columns": {"email": {"column": "a", "split": "b"}}}, "exactly one of"),
        ({"columns": {"email": {"colum": "a"}}}, "unknown keys: colum"),
        ({"columns": {"family_name": {"split": "a"}}}, "part must be"),
        ({"columns": {"family_name": {"split": "a", "part": "x"}}}, "part must be"),
        ({"columns": {"family_name": {"split": "a", "part": "given", "order": "x"}}}, "order"),
        ({"columns": {"phone": {"column": "a", "region": "XX"}}}, "not a country code"),
        ({"columns": {"birth_date": {"column": "a", "format": "no codes"}}}, "not a date format"),
        ({"columns": {"email": {"column": "a", "lower": "maybe"}}}, "true or false"),
        ({"columns": {"email": {"column": "a", "map": ["x"]}}}, "map must pair"),
        (["not", "a", "mapping"], "must be a set of keys"),
    ],
)
def test_bad_mappings_say_what_is_wrong(data: object, fragment: str) -> None:
    with pytest.raises(ImportFileError) as info:
        parse_mapping(data)
    assert fragment in info.value.message
    assert "\n" not in info.value.message


def test_format_and_region_only_where_they_apply() -> None:
    with pytest.raises(ImportFileError, match="format only applies"):
        plan(
            parse_mapping({"columns": {"email": {"column": "a", "format": "%Y"}}}),
            "customers",
            ["a", "source_record_id"],
        )
    with pytest.raises(ImportFileError, match="region only applies"):
        plan(
            parse_mapping({"columns": {"email": {"column": "a", "region": "CN"}}}),
            "customers",
            ["a", "source_record_id"],
        )


def test_unreadable_mapping_files(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="does not exist"):
        load_mapping(tmp_path / "nope.yaml")
    with pytest.raises(ImportFileError, match=r"not valid YAML \(line \d+\)"):
        load_mapping(write(tmp_path, "columns:\n  a: [b\n"))
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"columns: \x80\xff\xfe")
    with pytest.raises(ImportFileError, match="neither UTF-8 nor GB18030"):
        load_mapping(bad)


def test_localized_errors_speak_chinese() -> None:
    from cxo.i18n import translator

    with pytest.raises(ImportFileError) as info:
        plan(parse_mapping({"columns": {"shoe_size": "x"}}), "customers", ["x"])
    localized = info.value.localized(translator("zh_CN"))
    assert "shoe_size" in localized.message
    assert localized.message != info.value.message


def test_mapping_from_text_keeps_every_scalar_text() -> None:
    m = loads_mapping("columns:\n  country: {column: c, map: {Oslo: NO, Bern: yes}}\n")
    assert m.columns["country"].map == {"Oslo": "NO", "Bern": "yes"}
    assert loads_mapping("") == parse_mapping(None)
