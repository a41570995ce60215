"""Read and write survey definitions as YAML or JSON, with errors that name the line.

JSON is read by the same YAML parser (JSON is YAML 1.2 in practice for survey files), so one code
path finds line numbers for both: the document is composed into nodes first, and a validation
error's location (``pages.0.questions.3.options``) is walked down the node tree to its line.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from pydantic import ValidationError

from cxo.surveys.compile import SurveyDefinitionError, compile_spec
from cxo.surveys.definition import CompiledSurvey, SurveySpec
from cxo.vocabulary import N_

MAX_DEFINITION_BYTES = 1_000_000


def _line_of(node: yaml.Node | None, loc: tuple[str | int, ...]) -> int | None:
    """The 1-based line of the deepest node on ``loc`` that exists."""
    best = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next(
                (v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part),
                None,
            )
            if nxt is None:
                # the key is missing: point at the mapping that should hold it
                return best
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return best
            node = node.value[part]
        else:
            return best
        best = node.start_mark.line + 1
    return best


def _clean_loc(loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    # pydantic inserts union member names ("Question", "LibraryBlock", "Condition") into locations
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, str) and (part[:1].isupper() or part.startswith("function-")):
            continue
        out.append(part)
    return tuple(out)


def _first_problem(exc: ValidationError) -> tuple[tuple[str | int, ...], str]:
    errors = exc.errors(include_url=False)
    # Union errors repeat one problem per member; prefer the one that went deepest.
    best = max(errors, key=lambda e: len(e["loc"]))
    loc = _clean_loc(tuple(best["loc"]))
    message = str(best["msg"]).removeprefix("Value error, ")
    return loc, message


def load_document(text: str | bytes, *, source: str = "survey") -> tuple[Any, yaml.Node | None]:
    """Parse YAML/JSON text into Python data and its node tree (for line numbers)."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if len(raw) > MAX_DEFINITION_BYTES:
        raise SurveyDefinitionError(
            N_("%(source)s is %(size)s bytes; a survey definition may be at most %(limit)s"),
            source=source,
            size=f"{len(raw):,}",
            limit=f"{MAX_DEFINITION_BYTES:,}",
        )
    try:
        decoded = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SurveyDefinitionError(
            N_("%(source)s is not UTF-8 text (byte %(byte)s)"), source=source, byte=exc.start
        ) from None
    try:
        node = yaml.compose(decoded, Loader=yaml.SafeLoader)
        data = yaml.safe_load(decoded)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "not valid YAML"
        raise SurveyDefinitionError(
            N_("%(problem)s (not valid YAML or JSON)"), line=line, problem=problem
        ) from None
    except yaml.YAMLError as exc:
        raise SurveyDefinitionError(
            N_("not valid YAML or JSON: %(error)s"), error=str(exc)
        ) from None
    except RecursionError:
        # PyYAML composes recursively; a survey is never nested more than a few levels deep
        raise SurveyDefinitionError(
            N_("%(source)s is nested too deeply to be a survey"), source=source
        ) from None
    return data, node


def parse_spec(text: str | bytes, *, source: str = "survey") -> SurveySpec:
    """A validated :class:`SurveySpec` from YAML or JSON text; errors name the line."""
    data, node = load_document(text, source=source)
    if not isinstance(data, dict):
        raise SurveyDefinitionError(
            N_("a survey definition is a mapping with code, title and pages"), line=1
        )
    try:
        return SurveySpec.model_validate(data)
    except ValidationError as exc:
        loc, message = _first_problem(exc)
        raise SurveyDefinitionError(message, loc=loc, line=_line_of(node, loc)) from None


def parse_and_compile(
    text: str | bytes, *, source: str = "survey"
) -> tuple[SurveySpec, CompiledSurvey]:
    """Parse, validate and compile; every error names the line of the part at fault."""
    _data, node = load_document(text, source=source)
    spec = parse_spec(text, source=source)
    try:
        return spec, compile_spec(spec)
    except SurveyDefinitionError as exc:
        if exc.line is None and exc.loc:
            raise SurveyDefinitionError(
                exc.problem, loc=exc.loc, line=_line_of(node, exc.loc), **exc.params
            ) from None
        raise


def spec_dict(spec: SurveySpec) -> dict[str, Any]:
    """The spec as plain data, without defaults, for storage and export."""
    return spec.model_dump(mode="json", exclude_defaults=True)


def dump(data: dict[str, Any], fmt: str) -> str:
    """YAML (block style, Chinese kept readable) or pretty JSON."""
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    out: str = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    return out
