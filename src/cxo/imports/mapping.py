"""Mapping files: which source column (or transform) fills each cxo field. Pure; no store access.

The format is a contract (docs/imports.md)::

    kind: customers          # optional; must match the command when given
    source: branch           # optional default for --source
    encoding: gb18030        # optional
    sheet: Members           # optional, xlsx only
    columns:                 # cxo field -> source column or a rule
      source_record_id: 会员号
      family_name: {split: member_name, part: family, order: auto}
      birth_date: {column: birthday, format: "%d/%m/%Y"}
      country: {column: home_branch, map: {Shanghai: CN, Hong Kong: HK}, default: CN}
      phone: {column: mobile, region: HK}
      language: {value: Cantonese}
      city: {column: City, lower: false, strip: true}
      email: null            # leave a field out even if a column carries its name

Fields the mapping does not name map to a source column of the same name (case-insensitive,
spaces, dashes and underscores ignored), as they do when there is no mapping file at all.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping as MappingABC
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import phonenumbers
import yaml

from cxo.imports.errors import ImportFileError
from cxo.imports.fields import FIELDS, Field
from cxo.imports.models import IMPORT_KINDS
from cxo.imports.names import NAME_ORDERS, NAME_PARTS
from cxo.vocabulary import N_

TOP_KEYS: Final = ("kind", "source", "encoding", "sheet", "columns")
RULE_KEYS: Final = (
    "column",
    "split",
    "value",
    "part",
    "order",
    "format",
    "map",
    "default",
    "region",
    "lower",
    "strip",
)
_TRUE: Final = {"true", "yes", "on", "1"}
_FALSE: Final = {"false", "no", "off", "0"}


@dataclass(frozen=True)
class Rule:
    """How one cxo field is filled: from a column, from part of a split name, or a constant."""

    column: str | None = None
    split: str | None = None
    value: str | None = None
    part: str | None = None
    order: str = "auto"
    format: str | None = None
    map: dict[str, str] | None = None
    default: str | None = None
    region: str | None = None
    lower: bool = False
    strip: bool = True

    @property
    def source_column(self) -> str | None:
        return self.column if self.column is not None else self.split

    def describe(self) -> str:
        """A short description for previews and summaries, e.g. ``member_name (split: family)``."""
        if self.value is not None:
            return f"= {self.value!r}"
        if self.split is not None:
            return f"{self.split} (split: {self.part})"
        return str(self.column)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in RULE_KEYS:
            value = getattr(self, key)
            default = getattr(_DEFAULT_RULE, key)
            if value != default:
                out[key] = value
        return out


_DEFAULT_RULE: Final = Rule()


@dataclass(frozen=True)
class Mapping:
    """A parsed mapping file. ``columns`` maps a cxo field to its rule, or None to leave it out."""

    columns: dict[str, Rule | None] = field(default_factory=dict)
    kind: str | None = None
    source: str | None = None
    encoding: str | None = None
    sheet: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The mapping in normalised form, as stored with the import."""
        out: dict[str, Any] = {
            k: getattr(self, k) for k in ("kind", "source", "encoding", "sheet") if getattr(self, k)
        }
        out["columns"] = {
            name: (None if rule is None else rule.to_dict()) for name, rule in self.columns.items()
        }
        return out


@dataclass(frozen=True)
class Plan:
    """A mapping checked against an import kind and a file's columns: ready to apply."""

    kind: str
    fields: tuple[Field, ...]
    rules: dict[str, Rule]
    """Mapped fields only, in the kind's field order."""
    columns: tuple[str, ...]
    """The file's source columns."""
    unmapped: tuple[str, ...]
    """Source columns no rule reads."""
    auto: tuple[str, ...]
    """Fields mapped by their name (not named in the mapping)."""

    def describe(self) -> dict[str, str]:
        return {name: rule.describe() for name, rule in self.rules.items()}


class _StringLoader(yaml.SafeLoader):
    """YAML with every scalar a string (``NO`` stays Norway, ``0123`` keeps its zero); ``~`` is null."""


_StringLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_mapping(path: Path) -> Mapping:
    """Read and parse a YAML mapping file (UTF-8, or GB18030 as saved by some Chinese editors)."""
    if not path.is_file():
        raise ImportFileError(
            N_("The mapping file %(path)s does not exist."),
            hint=N_("Check the path given to --mapping."),
            path=str(path),
        )
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise ImportFileError(
                N_("The mapping file %(path)s is neither UTF-8 nor GB18030 text."),
                hint=N_("Save it as UTF-8."),
                path=str(path),
            ) from None
    return loads_mapping(text, origin=str(path))


def loads_mapping(text: str, *, origin: str = "text") -> Mapping:
    """Parse a mapping given as YAML text (a form field, an API part); every scalar stays text."""
    try:
        loaded = yaml.load(text, Loader=_StringLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ImportFileError(
            N_("The mapping file %(path)s is not valid YAML (line %(line)s)."),
            hint=N_("Check the indentation and quote values that contain a colon."),
            path=origin,
            line=(mark.line + 1) if mark is not None else "?",
        ) from None
    return parse_mapping(loaded)


def parse_mapping(data: Any) -> Mapping:
    """Check and normalise a mapping given as data (parsed YAML, or JSON from the API)."""
    if data is None:
        data = {}
    if not isinstance(data, MappingABC):
        raise ImportFileError(
            N_("A mapping must be a set of keys (kind, source, encoding, sheet, columns)."),
            hint=N_("See docs/imports.md for the mapping format."),
        )
    unknown = sorted(str(k) for k in data if k not in TOP_KEYS)
    if unknown:
        raise ImportFileError(
            N_("The mapping has unknown keys: %(keys)s."),
            hint=N_("Use kind, source, encoding, sheet and columns (see docs/imports.md)."),
            keys=", ".join(unknown),
        )
    columns = data.get("columns") or {}
    if not isinstance(columns, MappingABC):
        raise ImportFileError(
            N_("The mapping's columns must map cxo fields to source columns."),
            hint=N_("See docs/imports.md for the mapping format."),
        )
    kind = _optional_text(data.get("kind"))
    if kind is not None and kind not in IMPORT_KINDS:
        raise _unknown_kind(kind)
    return Mapping(
        columns={str(name): _rule(str(name), spec) for name, spec in columns.items()},
        kind=kind,
        source=_optional_text(data.get("source")),
        encoding=_optional_text(data.get("encoding")),
        sheet=_optional_text(data.get("sheet")),
    )


def _unknown_kind(kind: str) -> ImportFileError:
    return ImportFileError(
        N_("Unknown import kind %(kind)s."),
        hint=N_("Use customers, interactions, transactions or responses."),
        kind=repr(kind),
    )


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _rule_error(name: str, message: str, hint: str | None = None, **params: Any) -> ImportFileError:
    return ImportFileError(message, hint=hint, field=name, **params)


def _flag(name: str, key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _rule_error(
        name, N_("The mapping for %(field)s: %(key)s must be true or false."), key=key
    )


def _rule(name: str, spec: Any) -> Rule | None:
    if spec is None:
        return None
    if isinstance(spec, str | int | float) and not isinstance(spec, bool):
        return Rule(column=str(spec))
    if not isinstance(spec, MappingABC):
        raise _rule_error(
            name,
            N_("The mapping for %(field)s must be a column name or a set of keys."),
            hint=N_("See docs/imports.md for the mapping format."),
        )
    unknown = sorted(str(k) for k in spec if k not in RULE_KEYS)
    if unknown:
        raise _rule_error(
            name,
            N_("The mapping for %(field)s has unknown keys: %(keys)s."),
            hint=N_(
                "Use column, split, value, part, order, format, map, default, region, lower "
                "or strip."
            ),
            keys=", ".join(unknown),
        )
    sources = [k for k in ("column", "split", "value") if spec.get(k) is not None]
    if len(sources) != 1:
        raise _rule_error(
            name, N_("The mapping for %(field)s needs exactly one of column, split or value.")
        )
    text = {k: _optional_text(spec.get(k)) for k in ("column", "split", "format", "region")}
    value = spec.get("value")
    part = _optional_text(spec.get("part"))
    order = _optional_text(spec.get("order")) or "auto"
    if text["split"] is not None and part not in NAME_PARTS:
        raise _rule_error(
            name, N_("The mapping for %(field)s: part must be family, given or english.")
        )
    if text["split"] is None and part is not None:
        raise _rule_error(name, N_("The mapping for %(field)s: part only goes with split."))
    if order not in NAME_ORDERS:
        raise _rule_error(
            name, N_("The mapping for %(field)s: order must be auto, family_first or given_first.")
        )
    mapping = spec.get("map")
    if mapping is not None and (
        not isinstance(mapping, MappingABC)
        or any(v is None or isinstance(v, MappingABC | list) for v in mapping.values())
    ):
        raise _rule_error(
            name, N_("The mapping for %(field)s: map must pair source values with cxo values.")
        )
    region = text["region"]
    if region is not None:
        region = region.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise _rule_error(
                name,
                N_("The mapping for %(field)s: %(region)s is not a country code."),
                hint=N_("Use a two-letter country code such as CN, HK or GB."),
                region=repr(region),
            )
    fmt = text["format"]
    if fmt is not None:
        _check_format(name, fmt)
    default = spec.get("default")
    return Rule(
        column=text["column"],
        split=text["split"],
        value=None if value is None else str(value),
        part=part,
        order=order,
        format=fmt,
        map=None if mapping is None else {str(k): str(v) for k, v in mapping.items()},
        default=None if default is None else str(default),
        region=region,
        lower=_flag(name, "lower", spec.get("lower", False)),
        strip=_flag(name, "strip", spec.get("strip", True)),
    )


def _check_format(name: str, fmt: str) -> None:
    sample = dt.datetime(2001, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
    try:
        dt.datetime.strptime(sample.strftime(fmt), fmt)
        ok = "%" in fmt
    except ValueError:
        ok = False
    if not ok:
        raise _rule_error(
            name,
            N_("The mapping for %(field)s: %(format)s is not a date format."),
            hint=N_("Use strftime codes, for example %%d/%%m/%%Y."),
            format=repr(fmt),
        )


def normalise_name(name: str) -> str:
    """Column and field names compare case-insensitively, ignoring spaces, dashes, underscores."""
    return re.sub(r"[\s_\-]+", "", name).casefold()


def plan(mapping: Mapping | None, kind: str, columns: Sequence[str]) -> Plan:
    """Check ``mapping`` against the import ``kind`` and the file's ``columns``; fail clearly."""
    if kind not in FIELDS:
        raise _unknown_kind(kind)
    mapping = mapping or Mapping()
    if mapping.kind is not None and mapping.kind != kind:
        raise ImportFileError(
            N_("The mapping is for %(mapping_kind)s, not %(kind)s."),
            hint=N_("Use the matching command, or remove kind from the mapping."),
            mapping_kind=mapping.kind,
            kind=kind,
        )
    fields = FIELDS[kind]
    by_name = {f.name: f for f in fields}
    unknown = [name for name in mapping.columns if name not in by_name]
    if unknown:
        raise ImportFileError(
            N_("The mapping names fields that %(kind)s imports do not have: %(fields)s."),
            hint=N_("Valid fields: %(valid)s."),
            kind=kind,
            fields=", ".join(unknown),
            valid=", ".join(by_name),
        )
    present = set(columns)
    missing = sorted(
        {
            rule.source_column
            for rule in mapping.columns.values()
            if rule is not None and rule.source_column is not None
        }
        - present
    )
    if missing:
        raise ImportFileError(
            N_("The file has no column %(missing)s, which the mapping names."),
            hint=N_("Columns in the file: %(available)s."),
            missing=", ".join(repr(m) for m in missing),
            available=", ".join(repr(c) for c in columns) or "—",
        )
    by_normal: dict[str, str] = {}
    for column in columns:
        by_normal.setdefault(normalise_name(column), column)
    rules: dict[str, Rule] = {}
    auto: list[str] = []
    for f in fields:
        if f.name in mapping.columns:
            rule = mapping.columns[f.name]
            if rule is not None:
                rules[f.name] = rule
        elif normalise_name(f.name) in by_normal:
            rules[f.name] = Rule(column=by_normal[normalise_name(f.name)])
            auto.append(f.name)
    for name, rule in rules.items():
        if rule.format is not None and by_name[name].type not in ("date", "timestamp"):
            raise _rule_error(
                name, N_("The mapping for %(field)s: format only applies to dates and timestamps.")
            )
        if rule.region is not None and by_name[name].type != "phone":
            raise _rule_error(
                name, N_("The mapping for %(field)s: region only applies to phone numbers.")
            )
    unmapped_required = [f.name for f in fields if f.required and f.name not in rules]
    if unmapped_required:
        raise ImportFileError(
            N_("No column gives the required field(s) %(fields)s."),
            hint=N_(
                "Name a column after the field, or map one in a mapping file (--mapping). "
                "Columns in the file: %(available)s."
            ),
            fields=", ".join(unmapped_required),
            available=", ".join(repr(c) for c in columns) or "—",
        )
    used = {r.source_column for r in rules.values() if r.source_column is not None}
    return Plan(
        kind=kind,
        fields=fields,
        rules=rules,
        columns=tuple(columns),
        unmapped=tuple(c for c in columns if c not in used),
        auto=tuple(auto),
    )
