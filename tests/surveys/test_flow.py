"""The respondent's path: order, skip logic and validation (pure functions)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cxo.surveys import flow
from cxo.surveys.yamlio import parse_and_compile

SURVEY = """\
code: flow_test
title: {en: "T", zh_CN: "T"}
pages:
  - randomize: true
    questions:
      - use: servqual
        items: [sq01, sq02, sq03, sq04, sq05]
        scales: [performance]
        randomize_rows: true
        required: true
      - use: nps
        required: true
      - code: channels
        type: multiple
        min_choices: 1
        max_choices: 2
        text: {en: "Channels", zh_CN: "渠道"}
        options:
          - {value: 1, label: {en: "Branch", zh_CN: "网点"}}
          - {value: 2, label: {en: "App", zh_CN: "手机"}}
          - {value: 3, label: {en: "Web", zh_CN: "网上"}}
  - questions:
      - code: why_low
        type: text
        max_length: 20
        required: true
        text: {en: "Why?", zh_CN: "为什么？"}
        show_if: {question: nps, op: le, value: 6}
  - questions:
      - code: app_rating
        type: slider
        min: 0
        max: 10
        step: 0.5
        text: {en: "App", zh_CN: "手机"}
        show_if: {all: [{question: channels, op: eq, value: 2}, {question: sq01, op: ge, value: 4}]}
  - questions:
      - use: comment
"""
_spec, S = parse_and_compile(SURVEY)


def _form(**fields: str | list[str]) -> dict[str, list[str]]:
    return {k.replace("__", "."): v if isinstance(v, list) else [v] for k, v in fields.items()}


def _full_first_page(nps: str = "9", channels: list[str] | None = None) -> dict[str, list[str]]:
    form = {f"servqual_performance.sq0{i}": ["5"] for i in range(1, 6)}
    form["nps"] = [nps]
    form["channels"] = channels or ["1"]
    return form


@given(st.integers(min_value=0, max_value=2**31 - 1))
@settings(max_examples=50)
def test_randomised_order_is_a_permutation_and_stable_per_seed(seed: int) -> None:
    a = flow.page_questions(S, 0, seed=seed, answers={})
    b = flow.page_questions(S, 0, seed=seed, answers={})
    assert [q.code for q in a] == [q.code for q in b]
    assert sorted(q.code for q in a) == sorted(q.code for q in S.pages[0].questions)
    matrix = next(q for q in a if q.question.type == "matrix")
    assert sorted(r.code for r in matrix.rows) == [f"sq0{i}" for i in range(1, 6)]


def test_different_seeds_give_different_orders() -> None:
    orders = {
        tuple(r.code for q in flow.page_questions(S, 0, seed=s, answers={}) for r in q.rows)
        for s in range(40)
    }
    assert len(orders) > 10


def test_skip_logic_follows_the_answers() -> None:
    high = {("nps", "single"): 9.0}
    low = {("nps", "single"): 3.0}
    assert flow.next_page(S, 0, seed=1, answers=high) == 3  # page 2 (why_low) and 3 skipped
    assert flow.next_page(S, 0, seed=1, answers=low) == 1
    app = {
        ("nps", "single"): 9.0,
        ("channels.1", "single"): 0.0,
        ("channels.2", "single"): 1.0,
        ("channels.3", "single"): 0.0,
        ("sq01", "performance"): 5.0,
    }
    assert flow.next_page(S, 0, seed=1, answers=app) == 2
    app[("sq01", "performance")] = 2.0
    assert flow.next_page(S, 0, seed=1, answers=app) == 3
    assert flow.next_page(S, 3, seed=1, answers=app) is None
    assert flow.previous_page(S, 3, seed=1, answers=high) == 0


def test_a_full_page_parses_into_answer_keys() -> None:
    shown = flow.page_questions(S, 0, seed=7, answers={})
    result = flow.parse_page(shown, _full_first_page(channels=["1", "3"]))
    assert result.ok, result.errors
    assert result.values[("sq03", "performance")] == 5.0
    assert result.values[("nps", "single")] == 9.0
    assert result.values[("channels.1", "single")] == 1.0
    assert result.values[("channels.2", "single")] == 0.0


def test_required_missing_rows_and_out_of_range_values_are_reported() -> None:
    shown = flow.page_questions(S, 0, seed=7, answers={})
    form = _full_first_page()
    del form["servqual_performance.sq02"]
    form["nps"] = ["11"]
    form["channels"] = ["1", "2", "3"]
    result = flow.parse_page(shown, form)
    assert set(result.errors) == {"servqual_performance", "nps", "channels"}
    assert result.errors["nps"][1] == {"low": "0", "high": "10"}
    assert result.errors["channels"][1] == {"n": 2}
    # Going back does not insist on required answers.
    lenient = flow.parse_page(shown, {"nps": ["4"]}, enforce_required=False)
    assert lenient.ok and lenient.values == {("nps", "single"): 4.0}


@given(st.text(max_size=30))
def test_garbage_in_any_field_is_an_error_or_a_valid_value_never_a_crash(raw: str) -> None:
    shown = flow.page_questions(S, 0, seed=3, answers={})
    form = _full_first_page()
    form["nps"] = [raw]
    form["servqual_performance.sq01"] = [raw]
    form["channels"] = [raw]
    result = flow.parse_page(shown, form)
    for (item, _scale), value in result.values.items():
        if item == "nps":
            assert 0 <= float(value) <= 10 and float(value) == int(float(value))
        if item == "sq01":
            assert 1 <= float(value) <= 7


def test_text_is_bounded_and_control_characters_dropped() -> None:
    shown = flow.page_questions(S, 1, seed=3, answers={("nps", "single"): 2.0})
    too_long = flow.parse_page(shown, {"why_low": ["x" * 21]})
    assert "why_low" in too_long.errors
    ok = flow.parse_page(shown, {"why_low": ["<script>\x00hi\x07</script>"]})
    assert ok.values[("why_low", "single")] == "<script>hi</script>"  # escaped on output


def test_slider_steps_are_enforced() -> None:
    answers = {
        ("channels.2", "single"): 1.0,
        ("sq01", "performance"): 6.0,
    }
    shown = flow.page_questions(S, 2, seed=3, answers=answers)
    assert flow.parse_page(shown, {"app_rating": ["7.5"]}).ok
    assert not flow.parse_page(shown, {"app_rating": ["7.3"]}).ok
    assert not flow.parse_page(shown, {"app_rating": ["nan"]}).ok
    assert not flow.parse_page(shown, {"app_rating": ["inf"]}).ok


def test_visible_keys_drop_answers_hidden_by_later_changes() -> None:
    answers = {("nps", "single"): 9.0, ("why_low", "single"): "slow"}
    assert ("why_low", "single") not in flow.visible_keys(S, seed=1, answers=answers)
