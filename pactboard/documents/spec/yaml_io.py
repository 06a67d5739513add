"""The engagement document as YAML: load (exact numbers, no repeated keys) and dump, and errors.

A refused document raises one ``PactboardError`` with a detail per problem, located by its path
in the document (``kpis[3].thresholds.amber``) or, for YAML that cannot be read, its line.
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.documents.spec.checks import document_check
from pactboard.documents.spec.models import SCHEMA_PATH, Document
from pactboard.kpis.content import plain_decimal

HEADER = f"# Pactboard engagement document: docs/engagement-as-code.md, JSON Schema {SCHEMA_PATH}\n"


# --- YAML --------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """Safe YAML with exact numbers and no silently repeated keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                continue  # an unhashable key: the base constructor reports it
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark, f"found the key {key!r} twice", key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "").lower()
    if len(text) > MAX_NUMBER_DIGITS + 10:
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"the number {text[:12]}… has {len(text):,} characters: a number here has at most "
            f"{MAX_NUMBER_DIGITS} digits",
            node.start_mark,
        )
    special = {".inf": "Infinity", "+.inf": "Infinity", "-.inf": "-Infinity", ".nan": "NaN"}
    if text in special:
        return Decimal(special[text])  # refused later as "must be a finite number"
    if ":" in text:  # YAML 1.1 base 60, e.g. 1:30.5
        sign = -1 if text.startswith("-") else 1
        total = Decimal(0)
        for part in text.lstrip("+-").split(":"):
            total = total * 60 + Decimal(part)
        return sign * total
    try:
        return Decimal(text)
    except InvalidOperation:
        raise yaml.constructor.ConstructorError(
            None, None, f"could not read the number {text!r}", node.start_mark
        ) from None


_Loader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)

# No number of a document needs more digits (amounts are below 10^15, with 6 decimals); a longer
# one is refused before Python reads it (past 4,300 digits int() raises, and reading is slow).
MAX_NUMBER_DIGITS = 40


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    digits = sum(ch.isalnum() for ch in text)
    if digits > MAX_NUMBER_DIGITS:
        excerpt = text[:12] + "…"
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"the number {excerpt} has {digits:,} digits: a number here has at most {MAX_NUMBER_DIGITS}",
            node.start_mark,
        )
    value: int = loader.construct_yaml_int(node)
    return value


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


class _Money(Decimal):
    """A money amount: always written with two decimals."""


class _FlowMap(dict[str, Any]):
    """A small mapping written on one line: ``{amber: 70, stretch: 80}``."""


class _FlowList(list[Any]):
    """A short list written on one line: ``[fcr, csat]``."""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        # Never "&id001"/"*id001": a default shared by two entries (weight 1) is written out each time.
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key, as people write YAML.
        return super().increase_indent(flow, False)


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    text = plain_decimal(value) or "0"
    return dumper.represent_scalar("tag:yaml.org,2002:float" if "." in text else "tag:yaml.org,2002:int", text)


def _represent_money(dumper: yaml.SafeDumper, value: _Money) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:float", format(Decimal(value).quantize(Decimal("0.01")), "f"))


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Several lines read best as a literal block; PyYAML falls back to quotes where one cannot hold the text.
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


def _represent_flow_map(dumper: yaml.SafeDumper, value: _FlowMap) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=True)


def _represent_flow_list(dumper: yaml.SafeDumper, value: _FlowList) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


_Dumper.add_representer(Decimal, _represent_decimal)
_Dumper.add_representer(_Money, _represent_money)
_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_FlowMap, _represent_flow_map)
_Dumper.add_representer(_FlowList, _represent_flow_list)


def document_dump(document: Document) -> str:
    """The document as YAML: fields in model order, empty ones left out, numbers exact."""
    data = document.model_dump(mode="python", exclude_none=True)
    data["engagement"]["monthly_fee"] = _Money(data["engagement"]["monthly_fee"])
    for dataset in data.get("datasets", []):
        if "columns" in dataset:
            dataset["columns"] = [_FlowMap(c) for c in dataset["columns"]]
    for kpi in data["kpis"]:
        kpi["objectives"] = _FlowList(kpi["objectives"])
        if "thresholds" in kpi:
            kpi["thresholds"] = _FlowMap(kpi["thresholds"])
        if "milestones" in kpi:
            kpi["milestones"] = [_FlowMap(m) for m in kpi["milestones"]]
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1_000_000,  # never fold a line: folding is where round trips go wrong
    )
    return HEADER + body


# --- loading and errors ------------------------------------------------------------------------


def _path(loc: Iterable[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _submodel(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = get_origin(annotation)
    if origin in (list, Union, types.UnionType, Annotated):
        for arg in get_args(annotation):
            found = _submodel(arg)
            if found is not None:
                return found
    return None


def _fields_at(loc: Sequence[str | int]) -> list[str]:
    """The field names allowed at ``loc`` (for "unknown field" messages)."""
    model: type[BaseModel] | None = Document
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        info = model.model_fields.get(part)
        model = _submodel(info.annotation) if info is not None else None
    return list(model.model_fields) if model is not None else []


_PATTERN_MESSAGES = {
    "code": "use 2–48 lower-case letters, digits and underscores, starting with a letter",
    "key": "use letters, digits, hyphens and underscores only",
    "objectives": "use letters, digits, hyphens and underscores only",
    "currency": "use a three-letter ISO 4217 code such as EUR or USD",
    "owner": "must be an e-mail address",
}


def _message(error: Any) -> str:
    kind, loc, msg = error["type"], error["loc"], str(error["msg"])
    field = next((p for p in reversed(loc) if isinstance(p, str)), "")
    if kind == "missing":
        return "this field is required"
    if kind == "extra_forbidden":
        allowed = _fields_at(loc[:-1])
        return "unknown field" + (f" (allowed here: {', '.join(allowed)})" if allowed else "")
    if kind == "string_pattern_mismatch":
        if loc and loc[0] == "datasets" and field in ("name", "time_column"):
            if "columns" in loc or field == "time_column":
                return "use letters, digits and underscores (at most 64), starting with a letter or underscore"
            return "use letters, digits, hyphens and underscores only"
        if field in _PATTERN_MESSAGES:
            return _PATTERN_MESSAGES[field]
        return "must not contain control characters" + ("" if field in {"scope", "relevance"} else " or line breaks")
    if kind in ("too_short", "string_too_short"):
        return "must not be empty"
    if kind in ("too_long", "string_too_long"):
        return f"must be at most {error['ctx']['max_length']} characters long"
    if kind in ("decimal_type", "decimal_parsing", "float_type", "int_type", "int_parsing"):
        return "must be a number"
    if kind.startswith(("date_", "datetime_")):
        return "must be a date written YYYY-MM-DD"
    if kind == "string_type":
        return "must be text (put it in quotes)"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    for prefix in ("Input should", "String should", "List should", "Decimal input should", "Value should"):
        if msg.startswith(prefix):
            return "must" + msg.removeprefix(prefix).replace("should", "must")
    return msg


def _yaml_error(exc: yaml.YAMLError) -> ErrorDetail:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    return ErrorDetail(f"{context}: {problem}" if context else str(problem), where, "yaml")


def _refused(details: list[ErrorDetail]) -> PactboardError:
    count = f"{len(details)} problem" + ("" if len(details) == 1 else "s")
    return PactboardError(f"The engagement document was refused ({count}); nothing was changed.", details)


def document_parse(text: str) -> Document:
    """Read YAML into a ``Document`` (types and shapes only); raise PactboardError listing every problem."""
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        raise _refused([_yaml_error(exc)]) from None
    except (ValueError, OverflowError, RecursionError) as exc:
        # PyYAML builds dates, times and numbers with Python's own constructors, which raise these
        # (a date such as 2026-02-30, nesting too deep); the YAML parser located nothing for them.
        # Numbers raise YAMLError (_construct_decimal, _construct_int), so a ValueError or OverflowError
        # comes from a date or timestamp that does not exist.
        deep = isinstance(exc, RecursionError)
        reason = "nested too deeply" if deep else str(exc)[:200]
        message = f"a value cannot be read ({reason}): check dates exist (2026-02-30 does not) and numbers"
        raise _refused([ErrorDetail(message, code="nested_too_deep" if deep else "invalid_date")]) from None
    if not isinstance(data, dict):
        raise _refused(
            [ErrorDetail("the document must be a YAML mapping that starts with 'pactboard: 1'", code="not_a_mapping")]
        )
    try:
        return Document.model_validate(data)
    except ValidationError as exc:
        raise _refused([ErrorDetail(_message(e), _path(e["loc"]) or None, e["type"]) for e in exc.errors()]) from None


def document_load(text: str) -> Document:
    """Read and check a document; raise PactboardError listing every problem, each at its path."""
    document = document_parse(text)
    problems = document_check(document)
    if problems:
        raise _refused(problems)
    return document
