"""The survey builder's form view: what the browser needs to edit a definition with forms.

The form (``static/cxo-builder.js``) edits the definition as plain data and writes it back as YAML
into the same ``definition`` field the YAML view edits, so saving and the live check go through
the routes and validation they always did. The server gives the form three things: the definition
as JSON-ready data (parsed here, never validated away, so keys the form does not know survive),
the instrument library as the form shows it, and every string the form shows, in the user's
language (ADR 0008).
"""

from __future__ import annotations

import math
from typing import Any

from cxo.i18n import LANGUAGE_NAMES, Translator
from cxo.surveys import library
from cxo.surveys.compile import SurveyDefinitionError
from cxo.surveys.definition import LOCALES
from cxo.surveys.yamlio import load_document
from cxo.vocabulary import N_

# Values (strings, numbers, containers) the form will take; YAML aliases can make a small text
# stand for a huge tree, which must not be expanded into JSON.
MAX_NODES = 200_000

# Every string the form shows. The browser looks them up by their English text, so a string
# missing here shows in English: tests/surveys/test_builder.py checks the script against this list.
FORM_STRINGS = (
    N_("%(field)s (%(language)s)"),
    N_("Survey"),
    N_("Code"),
    N_("Letters a–z, digits and _, starting with a letter; at most 40 characters."),
    N_("A saved survey keeps its code; create a new survey for a new code."),
    N_("Title"),
    N_("Introduction"),
    N_("Thank-you message"),
    N_("Languages"),
    N_("Every wording must be given in each language the survey is in."),
    N_("Page %(n)s"),
    N_("Page title"),
    N_("Show this page's questions in random order"),
    N_("Move page up"),
    N_("Move page down"),
    N_("Duplicate page"),
    N_("Delete page"),
    N_("Add page"),
    N_("This page has no questions yet. Add one below."),
    N_("Question %(n)s · %(what)s"),
    N_("From the library: %(title)s"),
    N_("The library has no instrument %(code)s."),
    N_("Type"),
    N_("Wording"),
    N_("Help text"),
    N_("Required"),
    N_("Move up"),
    N_("Move down"),
    N_("Duplicate"),
    N_("Delete"),
    N_("Single choice"),
    N_("Multiple choice"),
    N_("Rating"),
    N_("Matrix"),
    N_("Slider"),
    N_("Free text"),
    N_("Options"),
    N_("The value is what an answer stores; labels are what respondents read."),
    N_("Answer value"),
    N_("Label"),
    N_("Add option"),
    N_("Remove"),
    N_("Option %(n)s"),
    N_("Choose at least"),
    N_("Choose at most"),
    N_("Scale"),
    N_("Lowest value"),
    N_("Highest value"),
    N_("Step"),
    N_("Scale labels"),
    N_("Point"),
    N_("Add label"),
    N_("Label %(n)s"),
    N_("Rows (statements)"),
    N_("Row code"),
    N_("Statement"),
    N_("Add row"),
    N_("Row %(n)s"),
    N_("Random row order"),
    N_("Maximum length (characters)"),
    N_("Scales"),
    N_("Items (%(n)s of %(total)s)"),
    N_("Skip logic"),
    N_("Show this question"),
    N_("always"),
    N_("only if all of these hold"),
    N_("only if any of these holds"),
    N_("Condition %(n)s"),
    N_("Question"),
    N_("Condition"),
    N_("Choose a question"),
    N_("(not on an earlier page)"),
    N_("Values, separated by commas"),
    N_("Answers: %(values)s"),
    N_("Add condition"),
    N_("Skip logic can refer only to questions on earlier pages."),
    N_("equals"),
    N_("does not equal"),
    N_("is less than"),
    N_("is at most"),
    N_("is more than"),
    N_("is at least"),
    N_("is one of"),
    N_("is none of"),
    N_("is answered"),
    N_("is not answered"),
    N_("Add a question"),
    N_("Add"),
    N_("From the instrument library"),
    N_("Custom question"),
    N_("Undo"),
    N_("Question added."),
    N_("Question deleted."),
    N_("Question duplicated."),
    N_("Question moved: page %(page)s, position %(n)s."),
    N_("Page added."),
    N_("Page deleted."),
    N_("Page duplicated."),
    N_("Page moved to position %(n)s."),
    N_("Undone."),
    N_("Reading the definition…"),
    N_("The form cannot show this definition: %(problem)s"),
    N_("The server did not answer; try again."),
    N_("Reload the page and try again."),
    N_("Show in the form"),
    N_("importance"),
    N_("performance"),
    N_("expectation"),
    N_("single"),
    N_("text"),
)


def form_messages(_: Translator) -> dict[str, str]:
    """The form's strings in the user's language, keyed by their English text."""
    out = {s: _(s) for s in FORM_STRINGS}
    out.update(LANGUAGE_NAMES)  # language names are shown in their own language
    return out


def library_for_form(locale: str, _: Translator) -> list[dict[str, Any]]:
    """The newest version of each instrument, as the form offers and describes it."""
    out: list[dict[str, Any]] = []
    for inst in library.latest():
        out.append(
            {
                "code": inst.code,
                "version": inst.version,
                "title": inst.title.get(locale),
                "scales": list(inst.scales),
                "default_scales": list(inst.default_scales),
                "variants": {k: list(v) for k, v in inst.variants.items()},
                "ranges": {
                    name: [s.min, s.max]
                    for name, s in inst.scales.items()
                    if s.min is not None and s.max is not None
                },
                "items": [
                    {
                        "code": item.code,
                        "text": item.text.get(locale),
                        "dimension": (
                            inst.dimensions[item.dimension].get(locale)
                            if item.dimension in inst.dimensions
                            else None
                        ),
                    }
                    for item in inst.items
                ],
            }
        )
    return out


def _jsonable(data: Any) -> Any:
    """YAML data as JSON data: mapping keys as strings, dates and non-finite numbers as text."""
    budget = [MAX_NODES]

    def walk(value: Any) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise SurveyDefinitionError("the definition is too large for the form")
        if isinstance(value, dict):
            return {_key(k): walk(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set):
            return [walk(v) for v in value]
        if value is None or isinstance(value, bool | int | str):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else str(value)
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        return str(value)

    return walk(data)


def _key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


def _shape_problem(data: Any, _: Translator) -> str | None:
    """Why the form cannot show ``data``, or None. Anything else the form shows or keeps as is."""
    if not isinstance(data, dict):
        return _("a survey definition is a mapping with code, title and pages")
    pages = data.get("pages")
    if pages is None:
        return None
    if not isinstance(pages, list):
        return _("pages must be a list of pages")
    for n, page in enumerate(pages, start=1):
        if not isinstance(page, dict):
            return _("page %(n)s is not a mapping", n=n)
        questions = page.get("questions")
        if questions is not None and not isinstance(questions, list):
            return _("the questions of page %(n)s are not a list", n=n)
        for q in questions or []:
            if not isinstance(q, dict):
                return _("page %(n)s holds a question that is not a mapping", n=n)
    return None


def form_definition(text: str, _: Translator) -> dict[str, Any]:
    """The definition as data for the form; :class:`SurveyDefinitionError` if the form cannot
    show it (broken YAML, or a shape the form has no place for)."""
    data, _node = load_document(text)
    problem = _shape_problem(data, _)
    if problem is not None:
        raise SurveyDefinitionError(problem)
    result: dict[str, Any] = _jsonable(data)
    return result


def boot(*, text: str, code: str | None, locale: str, _: Translator) -> dict[str, Any]:
    """Everything the form needs, embedded in the page as JSON."""
    try:
        definition: dict[str, Any] | None = form_definition(text, _)
        problem = None
    except SurveyDefinitionError as exc:
        definition, problem = None, exc.message
    return {
        "definition": definition,
        "problem": problem,
        "code": code,
        "locales": list(LOCALES),
        "library": library_for_form(locale, _),
        "messages": form_messages(_),
    }
