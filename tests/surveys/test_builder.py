"""The builder's form view, server side: strings it shows, the data it is given, what it refuses."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from cxo.i18n import translator
from cxo.surveys.builder import FORM_STRINGS, boot, form_definition, form_messages
from cxo.surveys.compile import SurveyDefinitionError
from cxo.surveys.snippets import starter

SCRIPT = Path(__file__).resolve().parents[2] / "src/cxo/web/static/cxo-builder.js"
# t("…") and rowName: "…" — the two ways the script names a string it shows
SHOWN = re.compile(r'(?:\bt\(|rowName: )"((?:[^"\\]|\\.)*)"')
# looked up by a name that is data (scale names), not written in the script
BY_NAME = {"importance", "performance", "expectation", "single", "text"}


def test_every_string_the_script_shows_comes_from_the_catalog_and_none_is_left_over() -> None:
    shown = {s.replace('\\"', '"') for s in SHOWN.findall(SCRIPT.read_text("utf-8"))}
    assert len(shown) > 80
    assert shown - set(FORM_STRINGS) == set(), "add these to builder.FORM_STRINGS and run make i18n"
    assert set(FORM_STRINGS) - shown - BY_NAME == set(), "no longer shown: remove from FORM_STRINGS"


def test_the_form_gets_every_string_translated() -> None:
    zh = form_messages(translator("zh_CN"))
    untranslated = [s for s in FORM_STRINGS if zh[s] == s]
    assert untranslated == [], untranslated
    assert zh["Skip logic"] == "跳转逻辑" and zh["Free text"] == "开放文本"
    assert zh["importance"] == "重要性" and zh["performance"] == "表现"
    assert zh["en"] == "English" and zh["zh_CN"] == "简体中文"
    assert form_messages(translator("en"))["Add a question"] == "Add a question"


def test_form_definition_keeps_every_key_in_its_order() -> None:
    text = """\
code: x
zeta: {b: 1, a: [2, {c: 3}]}
title: {zh_CN: "标题", en: "Title"}
pages:
  - questions:
      - {code: q, type: rating, min: 1, max: 5, labels: {5: {en: top}, 1: {en: low}}, extra: true}
"""
    data = form_definition(text, translator("en"))
    assert list(data) == ["code", "zeta", "title", "pages"]
    assert list(data["title"]) == ["zh_CN", "en"]
    question = data["pages"][0]["questions"][0]
    assert question["extra"] is True
    assert list(question["labels"]) == ["5", "1"]  # JSON keys are strings; the order is kept
    assert data["zeta"] == {"b": 1, "a": [2, {"c": 3}]}


def test_the_boot_data_says_why_the_form_cannot_show_a_definition() -> None:
    _ = translator("en")
    ok = boot(text=starter(), code=None, locale="en", _=_)
    assert ok["problem"] is None and ok["definition"]["code"] == "my_survey"
    broken = boot(text="pages: [", code="x", locale="en", _=_)
    assert broken["definition"] is None and "not valid YAML" in broken["problem"]
    assert boot(text="42", code=None, locale="en", _=_)["problem"] == (
        "a survey definition is a mapping with code, title and pages"
    )


def test_alias_bombs_are_refused_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    start = time.perf_counter()
    with pytest.raises(SurveyDefinitionError, match="too large for the form"):
        form_definition("\n".join(lines), translator("en"))
    assert time.perf_counter() - start < 5
