"""Survey definitions: the instrument library, compiling, and errors that name the line."""

from __future__ import annotations

import json

import pytest

from cxo.surveys import library
from cxo.surveys.compile import SurveyDefinitionError
from cxo.surveys.snippets import SNIPPETS, starter
from cxo.surveys.yamlio import dump, parse_and_compile, spec_dict
from cxo.synth import voice

GOOD = """\
code: branch_visit
title: {en: "After your branch visit", zh_CN: "网点服务回访"}
pages:
  - title: {en: "Service quality", zh_CN: "服务质量"}
    questions:
      - use: servqual
        items: [sq01, sq05, sq11]
      - use: nps
        required: true
  - questions:
      - code: reason
        type: single
        text: {en: "Why?", zh_CN: "为什么？"}
        show_if: {question: nps, op: le, value: 6}
        options:
          - {value: 1, label: {en: "Wait", zh_CN: "等待"}}
          - {value: 2, label: {en: "Staff", zh_CN: "员工"}}
      - use: comment
"""


def test_library_has_every_instrument_the_issue_names_in_both_languages() -> None:
    by_code = {i.code: i for i in library.latest()}
    assert set(by_code) == {
        "servqual",
        "relationship_quality",
        "loyalty",
        "nps",
        "csat",
        "ces",
        "comment",
    }
    sq = by_code["servqual"]
    assert len(sq.items) == 22
    dims: dict[str, int] = {}
    for item in sq.items:
        assert item.dimension is not None
        dims[item.dimension] = dims.get(item.dimension, 0) + 1
    assert dims == {
        "tangibles": 4,
        "reliability": 5,
        "responsiveness": 4,
        "assurance": 4,
        "empathy": 5,
    }
    assert set(sq.default_scales) == {"importance", "performance"}
    assert sq.variants["servperf"] == ["performance"]
    assert "expectation" in sq.scales
    rq = by_code["relationship_quality"]
    per: dict[str, int] = {}
    for item in rq.items:
        per[item.dimension or ""] = per.get(item.dimension or "", 0) + 1
    assert set(per) == {"trust", "benev", "commit", "sat", "conflict"}
    assert min(per.values()) >= 3
    assert {i.dimension for i in by_code["loyalty"].items} == {
        "repurchase",
        "recommend",
        "wallet",
        "switch",
    }
    assert (by_code["nps"].scales["single"].min, by_code["nps"].scales["single"].max) == (0, 10)
    assert (by_code["csat"].scales["single"].min, by_code["csat"].scales["single"].max) == (1, 5)
    assert (by_code["ces"].scales["single"].min, by_code["ces"].scales["single"].max) == (1, 7)
    for inst in library.latest():
        for item in inst.items:
            assert item.text.en and item.text.zh_CN, item.code
        for d in inst.dimensions.values():
            assert d.en and d.zh_CN


def test_library_item_codes_match_the_demo_world() -> None:
    # The demo world's answers must land on library items, so analyses find them.
    codes = {i.code for inst in library.latest() for i in inst.items}
    assert {item.code for item in voice.ITEMS} <= codes


def test_compile_expands_library_blocks_into_matrices_per_scale() -> None:
    _spec, survey = parse_and_compile(GOOD)
    qs = {q.code: q for q in survey.questions()}
    assert list(qs) == ["servqual_importance", "servqual_performance", "nps", "reason", "comment"]
    imp = qs["servqual_importance"]
    assert imp.type == "matrix" and imp.scale == "importance"
    assert [r.code for r in imp.rows] == ["sq01", "sq05", "sq11"]
    assert imp.instrument == "servqual@1" and imp.kind == "servqual"
    assert qs["nps"].type == "rating" and (qs["nps"].min, qs["nps"].max) == (0, 10)
    assert qs["nps"].required
    assert qs["comment"].type == "text"


def test_servperf_variant_and_expectation_scale() -> None:
    text = GOOD.replace("items: [sq01, sq05, sq11]", "variant: servperf")
    _spec, survey = parse_and_compile(text)
    matrices = [q for q in survey.questions() if q.type == "matrix"]
    assert [(q.code, len(q.rows)) for q in matrices] == [("servqual_performance", 22)]
    text = GOOD.replace("items: [sq01, sq05, sq11]", "scales: [expectation, performance]")
    _spec, survey = parse_and_compile(text)
    assert [q.scale for q in survey.questions() if q.type == "matrix"] == [
        "expectation",
        "performance",
    ]


@pytest.mark.parametrize(
    ("change", "line", "words"),
    [
        (("value: 2,", "value: 1,"), 11, "option values must be unique"),
        (("question: nps", "question: npsx"), 14, "no earlier page"),
        (("type: single", "type: singel"), 12, "Input should be"),
        (("op: le", "op: lte"), 14, "Input should be"),
        (("op: le, value: 6", "op: in, value: 6"), 14, "need a list"),
        (("items: [sq01", "items: [sq99"), 7, "no items sq99"),
        (("use: nps", "use: npx"), 8, "No instrument"),
        (('text: {en: "Why?", zh_CN: "为什么？"}', 'text: {en: "Why?"}'), 11, "missing in zh_CN"),
        (("  - questions:", "  - questions: ["), 11, "not valid YAML"),
        (("code: branch_visit", "code: Branch Visit"), 1, "String should match"),
        (("code: branch_visit", "code: new"), 1, "reserved"),
        (("code: branch_visit", "code: deliverability"), 1, "reserved"),
    ],
)
def test_malformed_definitions_name_the_line(
    change: tuple[str, str], line: int, words: str
) -> None:
    with pytest.raises(SurveyDefinitionError) as err:
        parse_and_compile(GOOD.replace(*change))
    assert err.value.line == line, err.value.message
    assert words in err.value.message


def test_condition_on_the_same_page_is_refused_with_a_reason() -> None:
    text = GOOD.replace(
        "      - use: nps\n        required: true\n",
        "      - use: nps\n        required: true\n        show_if: {question: sq01, op: answered}\n",
    )
    with pytest.raises(SurveyDefinitionError, match="same page"):
        parse_and_compile(text)


def test_duplicate_item_codes_across_questions_are_refused() -> None:
    text = GOOD.replace("code: reason", "code: nps")
    with pytest.raises(SurveyDefinitionError, match="used twice"):
        parse_and_compile(text)


def test_english_only_survey_needs_no_chinese() -> None:
    text = GOOD.replace("pages:\n", "locales: [en]\npages:\n", 1).replace(
        'text: {en: "Why?", zh_CN: "为什么？"}', 'text: {en: "Why?"}'
    )
    _spec, survey = parse_and_compile(text)
    assert survey.locales == ["en"]


def test_oversized_and_non_utf8_definitions_are_refused() -> None:
    with pytest.raises(SurveyDefinitionError, match="at most"):
        parse_and_compile(b"#" * 1_000_001)
    with pytest.raises(SurveyDefinitionError, match="not UTF-8"):
        parse_and_compile(GOOD.encode("gb18030"))
    with pytest.raises(SurveyDefinitionError, match="mapping"):
        parse_and_compile("- just\n- a list\n")
    with pytest.raises(SurveyDefinitionError, match="nested too deeply"):
        parse_and_compile("pages: " + "[" * 5000)


def test_yaml_and_json_exports_round_trip() -> None:
    spec, survey = parse_and_compile(GOOD)
    for fmt in ("yaml", "json"):
        text = dump(spec_dict(spec), fmt)
        spec2, survey2 = parse_and_compile(text)
        assert spec2 == spec and survey2 == survey
    as_json = json.dumps(spec_dict(spec), ensure_ascii=False)
    assert parse_and_compile(as_json)[1] == survey


def test_starter_and_every_builder_snippet_compile() -> None:
    _spec, survey = parse_and_compile(starter())
    assert survey.question("what_went_wrong") is not None
    for _label, snippet in SNIPPETS:
        if "show_if" in snippet:
            continue
        text = starter().rstrip("\n") + "\n" + snippet
        parse_and_compile(text)
