"""Compile a survey spec: expand library blocks, then check what a single model cannot.

Checks across the survey: question and item codes are unique; every ``show_if`` refers to a
question on an *earlier page* (pages are server-rendered, so a condition is decided when its page
is reached); every wording exists in each of the survey's locales.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from cxo.errors import CxoError
from cxo.surveys.definition import (
    AllOf,
    AnyOf,
    CompiledPage,
    CompiledSurvey,
    Condition,
    LibraryBlock,
    Question,
    Row,
    ShowIf,
    SurveySpec,
    Text,
)
from cxo.surveys.library import Instrument, get_instrument
from cxo.vocabulary import N_


class SurveyDefinitionError(CxoError):
    """The survey definition is malformed; ``loc`` is the path to the offending part."""

    def __init__(
        self,
        message: str,
        *,
        loc: tuple[str | int, ...] = (),
        line: int | None = None,
        **params: object,
    ):
        self.problem = message  # a message template (``%(name)s`` placeholders in ``params``)
        self.params = params
        self.loc = loc
        self.line = line
        text = message % params if params else message
        where = _where(loc, line, lambda m, **kw: m % kw)
        super().__init__(f"{where}: {text}" if where else text)

    def localized(self, _: Callable[..., str]) -> str:
        """The message in the language of ``_`` (a translator): where, then what."""
        text = _(self.problem, **self.params)
        where = _where(self.loc, self.line, _)
        return f"{where}: {text}" if where else text


def _where(loc: tuple[str | int, ...], line: int | None, _: Callable[..., str]) -> str:
    path = ".".join(str(p) for p in loc)
    if line is not None:
        return _(N_("line %(line)s"), line=line) + (f" ({path})" if path else "")
    return path


def _block_scales(block: LibraryBlock, inst: Instrument, loc: tuple[str | int, ...]) -> list[str]:
    if block.variant is not None and block.scales is not None:
        raise SurveyDefinitionError(N_("give either variant or scales, not both"), loc=loc)
    if block.variant is not None:
        if block.variant not in inst.variants:
            known = ", ".join(sorted(inst.variants)) or "none"
            raise SurveyDefinitionError(
                N_("%(instrument)s has no variant %(variant)s (variants: %(known)s)"),
                loc=(*loc, "variant"),
                instrument=inst.code,
                variant=repr(block.variant),
                known=known,
            )
        return inst.variants[block.variant]
    scales: list[str] = (
        [str(s) for s in block.scales] if block.scales is not None else inst.default_scales
    )
    unknown = [s for s in scales if s not in inst.scales]
    if unknown:
        raise SurveyDefinitionError(
            N_("%(instrument)s is not asked on %(unknown)s (scales: %(known)s)"),
            loc=(*loc, "scales"),
            instrument=inst.code,
            unknown=", ".join(unknown),
            known=", ".join(inst.scales),
        )
    if len(set(scales)) != len(scales):
        raise SurveyDefinitionError(N_("scales must be unique"), loc=(*loc, "scales"))
    return scales


def expand_block(block: LibraryBlock, loc: tuple[str | int, ...] = ()) -> list[Question]:
    """The questions a library block stands for: one matrix per scale (or a single rating/text
    question for one-item instruments)."""
    try:
        inst = get_instrument(block.use, block.version)
    except CxoError as exc:
        raise SurveyDefinitionError(exc.message, loc=(*loc, "use")) from None
    items = inst.items
    if block.items is not None:
        known = {i.code for i in inst.items}
        unknown = [c for c in block.items if c not in known]
        if unknown:
            raise SurveyDefinitionError(
                N_("%(instrument)s has no items %(unknown)s"),
                loc=(*loc, "items"),
                instrument=inst.code,
                unknown=", ".join(unknown),
            )
        wanted = set(block.items)
        items = [i for i in inst.items if i.code in wanted]
    scales = _block_scales(block, inst, loc)
    out: list[Question] = []
    for scale in scales:
        sdef = inst.scales[scale]
        common: dict[str, Any] = {
            "required": block.required,
            "show_if": block.show_if,
            "instrument": inst.ref,
            "kind": inst.kind,
        }
        if scale == "text":
            item = items[0]
            out.append(
                Question(
                    code=item.code,
                    type="text",
                    text=item.text,
                    max_length=sdef.max_length or 2000,
                    **common,
                )
            )
            continue
        if len(items) == 1 and len(scales) == 1:
            item = items[0]
            out.append(
                Question(
                    code=item.code,
                    type="rating",
                    text=item.text,
                    min=sdef.min,
                    max=sdef.max,
                    labels=sdef.labels,
                    scale=scale,  # type: ignore[arg-type]
                    **common,
                )
            )
            continue
        title = sdef.prompt or inst.title
        out.append(
            Question(
                code=f"{inst.code}_{scale}" if scale != "single" else inst.code,
                type="matrix",
                text=title,
                min=sdef.min,
                max=sdef.max,
                labels=sdef.labels,
                rows=[
                    Row(code=i.code, text=i.text, dimension=i.dimension, reverse=i.reverse)
                    for i in items
                ],
                randomize_rows=block.randomize_rows,
                scale=scale,  # type: ignore[arg-type]
                **common,
            )
        )
    return out


def _conditions(show_if: ShowIf | None) -> list[Condition]:
    if show_if is None:
        return []
    if isinstance(show_if, AnyOf):
        return list(show_if.any)
    if isinstance(show_if, AllOf):
        return list(show_if.all)
    return [show_if]


def compile_spec(spec: SurveySpec) -> CompiledSurvey:
    """Expand library blocks and check the survey as a whole."""
    pages: list[CompiledPage] = []
    seen_questions: set[str] = set()
    seen_items: dict[str, tuple[str | int, ...]] = {}
    earlier: set[str] = set()  # question and item codes on earlier pages
    for p, page in enumerate(spec.pages):
        questions: list[Question] = []
        this_page: set[str] = set()
        for q, entry in enumerate(page.questions):
            loc: tuple[str | int, ...] = ("pages", p, "questions", q)
            expanded = expand_block(entry, loc) if isinstance(entry, LibraryBlock) else [entry]
            for question in expanded:
                if question.code in seen_questions:
                    raise SurveyDefinitionError(
                        N_("the question code %(code)s is used twice"),
                        loc=loc,
                        code=repr(question.code),
                    )
                seen_questions.add(question.code)
                for item in question.item_codes():
                    if item in seen_items and seen_items[item] != loc:
                        raise SurveyDefinitionError(
                            N_("the item code %(code)s is used twice"), loc=loc, code=repr(item)
                        )
                    seen_items[item] = loc
                conds = _conditions(question.show_if)
                for i, cond in enumerate(conds):
                    if cond.question not in earlier:
                        same_page = (
                            cond.question in this_page or cond.question in question.item_codes()
                        )
                        raise SurveyDefinitionError(
                            N_(
                                "show_if refers to %(code)s: it is on the same page; move the "
                                "condition to a later page"
                            )
                            if same_page
                            else N_(
                                "show_if refers to %(code)s: no earlier page has that question"
                            ),
                            loc=(*loc, "show_if") if len(conds) == 1 else (*loc, "show_if", i),
                            code=repr(cond.question),
                        )
                _check_locales(question.texts(), spec.locales, loc)
                this_page.add(question.code)
                this_page.update(question.item_codes())
                questions.append(question)
        if page.title is not None:
            _check_locales([page.title], spec.locales, ("pages", p, "title"))
        pages.append(CompiledPage(title=page.title, randomize=page.randomize, questions=questions))
        earlier |= this_page
    heads = [t for t in (spec.title, spec.intro, spec.thanks) if t is not None]
    _check_locales(heads, spec.locales, ("title",))
    return CompiledSurvey(
        code=spec.code,
        title=spec.title,
        intro=spec.intro,
        thanks=spec.thanks,
        locales=spec.locales,
        pages=pages,
    )


def _check_locales(texts: list[Text], locales: Sequence[str], loc: tuple[str | int, ...]) -> None:
    for text in texts:
        missing = text.missing(locales)
        if missing:
            raise SurveyDefinitionError(
                N_(
                    "wording missing in %(locales)s (%(text)s); the survey's locales need every text"
                ),
                loc=loc,
                locales=", ".join(missing),
                text=repr(text.get("en")[:60]),
            )
