"""Compiling a KPI formula: parse with sqlglot, whitelist, normalise, type-check, fingerprint.

Pure: no Django, no ORM. A formula and its optional row filter are read as DuckDB SQL, refused
unless every node is an allowed aggregate, scalar function, operator or a declared column, and
bound against an empty table of the declared column types. ``CompiledFormula`` holds the
normalised text; its executable form (row filter folded into FILTER clauses, divisors wrapped
in NULLIF) is what ``compute`` runs and what ``to_sql`` writes in other dialects.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from dataclasses import dataclass
from decimal import Decimal

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, TokenError

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.formulas.duckdb_session import _connect
from pactboard.formulas.schema import ColumnType, DatasetSchema
from pactboard.formulas.whitelist import (
    _AGGREGATE_TYPES,
    _READ_DIALECT,
    _check_aggregation,
    _check_depth,
    _check_nodes,
    _check_row_filter,
    _invalid,
    _snippet,
    _what,
)

#: Longest formula or row filter accepted, in characters (the catalogue's longest is ~150).
MAX_FORMULA_LENGTH = 4000
# DuckDB type of each declared column type, for compile-time type checking.
_DUCKDB_TYPES: dict[ColumnType, str] = {
    "timestamp": "TIMESTAMPTZ",
    "date": "DATE",
    "integer": "BIGINT",
    "decimal": "DECIMAL(38, 10)",
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
    "text": "VARCHAR",
}

_NUMERIC_RESULT_TYPES = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
     "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "BOOLEAN"}
)  # fmt: skip


@dataclass(frozen=True)
class CompiledFormula:
    """A whitelisted, normalised formula; ``fingerprint`` identifies this version of it."""

    expression: str
    row_filter: str | None
    columns: frozenset[str]
    fingerprint: str

    def to_sql(self, dialect: str = "duckdb") -> str:
        """The complete aggregate in ``dialect``: row filter folded into FILTER clauses, safe divisions."""
        tree = _executable_tree(self)
        if dialect in ("postgres", "postgresql"):
            tree = _argmax_for_postgres(tree)
        try:
            return tree.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)
        except (SqlglotError, ValueError) as err:
            raise _invalid(
                f"the formula cannot be written in {dialect}: {err}", location="dialect", code="formula_dialect"
            ) from err


def formula_row_filter_sql(formula: CompiledFormula) -> str | None:
    """The formula's whitelisted row filter as a DuckDB condition (None without one), for a WHERE clause."""
    if formula.row_filter is None:
        return None
    return _duck(sqlglot.parse_one(formula.row_filter, read=_READ_DIALECT))


def formula_compile(*, expression: str, schema: DatasetSchema, row_filter: str | None = None) -> CompiledFormula:
    """Parse, whitelist, normalise and type-check a formula over ``schema``; raise PactboardError if refused.

    Outcomes are remembered (a bounded cache), so a caller can check a formula before it opens a
    write transaction and check it again inside for free.
    """
    outcome = _compile_remembered(expression, schema, row_filter)
    if isinstance(outcome, CompiledFormula):
        return outcome
    message, details = outcome
    raise PactboardError(message=message, details=list(details))


@functools.lru_cache(maxsize=512)
def _compile_remembered(
    expression: str, schema: DatasetSchema, row_filter: str | None
) -> CompiledFormula | tuple[str, tuple[ErrorDetail, ...]]:
    try:
        return _compile(expression=expression, schema=schema, row_filter=row_filter)
    except PactboardError as err:
        return err.message, tuple(err.details)


def formula_compile_cache_clear() -> None:
    """Forget remembered outcomes (tests that count the work of a check)."""
    _compile_remembered.cache_clear()


def _compile(*, expression: str, schema: DatasetSchema, row_filter: str | None) -> CompiledFormula:
    tree = _parse(expression, location="expression")
    _check_nodes(tree, schema=schema, location="expression")
    _check_aggregation(tree)
    filter_tree: exp.Expr | None = None
    if row_filter is not None and row_filter.strip():
        filter_tree = _parse(row_filter, location="row_filter")
        _check_nodes(filter_tree, schema=schema, location="row_filter")
        _check_row_filter(filter_tree)
    columns = frozenset(col.name for t in (tree, filter_tree) if t is not None for col in t.find_all(exp.Column))
    normalised = tree.sql(dialect=_READ_DIALECT)
    normalised_filter = filter_tree.sql(dialect=_READ_DIALECT) if filter_tree is not None else None
    digest = hashlib.sha256(json.dumps([normalised, normalised_filter]).encode()).hexdigest()
    compiled = CompiledFormula(expression=normalised, row_filter=normalised_filter, columns=columns, fingerprint=digest)
    _type_check(compiled, schema=schema)
    return compiled


# --- parsing and whitelisting ------------------------------------------------------------------


def _parse(text: str, *, location: str) -> exp.Expr:
    if not text or not text.strip():
        raise _invalid(f"the {_what(location)} is empty", location=location, code="formula_empty")
    if len(text) > MAX_FORMULA_LENGTH:
        raise _invalid(
            f"the {_what(location)} is {len(text)} characters long; the limit is {MAX_FORMULA_LENGTH}",
            location=location,
            code="formula_too_long",
        )
    try:
        tokens = Dialect.get_or_raise(_READ_DIALECT).tokenize(text)
    except TokenError as err:
        raise _invalid(
            f"could not read the {_what(location)}: {err}", location=location, code="formula_syntax"
        ) from err
    if not tokens or any(tok.comments for tok in tokens):
        raise _invalid(
            f"comments are not allowed in a {_what(location)}: remove '--' and '/* */'",
            location=location,
            code="formula_comment",
        )
    try:
        statements = [s for s in sqlglot.parse(text, read=_READ_DIALECT) if s is not None]
    except RecursionError as err:
        raise _invalid(
            f"the {_what(location)} nests too deeply to read", location=location, code="formula_syntax"
        ) from err
    except ParseError as err:
        first = err.errors[0] if err.errors else {}
        near = first.get("highlight") or ""
        desc = first.get("description") or str(err)
        where = f" near '{near}'" if near else ""
        raise _invalid(
            f"could not read the {_what(location)}{where}: {desc}", location=location, code="formula_syntax"
        ) from err
    if len(statements) != 1:
        raise _invalid(
            f"a {_what(location)} is one expression; found {len(statements)} statements "
            f"({'; '.join(_snippet(s) for s in statements[:3])}{'; ...' if len(statements) > 3 else ''})",
            location=location,
            code="formula_statements",
        )
    _check_depth(statements[0], location=location)
    return statements[0]


def _executable_tree(formula: CompiledFormula) -> exp.Expr:
    """The aggregate as run: row filter ANDed into every aggregate's FILTER, divisors wrapped in NULLIF."""
    tree = sqlglot.parse_one(formula.expression, read=_READ_DIALECT)
    if formula.row_filter is not None:
        condition = sqlglot.parse_one(formula.row_filter, read=_READ_DIALECT)
        for agg in list(tree.find_all(*_AGGREGATE_TYPES)):
            parent = agg.parent
            if isinstance(parent, exp.Filter) and parent.this is agg:
                where = parent.args["expression"]
                where.set("this", exp.and_(exp.paren(where.this.copy()), exp.paren(condition.copy())))
            else:
                wrapped = exp.Filter(this=agg.copy(), expression=exp.Where(this=exp.paren(condition.copy())))
                tree = wrapped if agg is tree else tree
                agg.replace(wrapped)
    for div in list(tree.find_all(exp.Div, exp.IntDiv, exp.Mod)):
        divisor = div.args["expression"]
        if isinstance(divisor, exp.Literal) and divisor.is_number and Decimal(divisor.this) != 0:
            continue  # a non-zero constant cannot divide by zero
        div.set("expression", exp.Nullif(this=divisor.copy(), expression=exp.Literal.number(0)))
    return tree


def _argmax_for_postgres(tree: exp.Expr) -> exp.Expr:
    """PostgreSQL has no arg_max/arg_min: use (array_agg(a ORDER BY b DESC) FILTER (...))[1]."""
    for node in list(tree.find_all(exp.ArgMax, exp.ArgMin)):
        outer: exp.Expr = node.parent if isinstance(node.parent, exp.Filter) else node
        arg, key = node.this, node.args["expression"]
        condition: exp.Expr = exp.and_(
            exp.Not(this=exp.Is(this=arg.copy(), expression=exp.Null())),
            exp.Not(this=exp.Is(this=key.copy(), expression=exp.Null())),
        )
        if isinstance(outer, exp.Filter):
            condition = exp.and_(condition, exp.paren(outer.args["expression"].this.copy()))
        ordered = exp.Ordered(this=key.copy(), desc=isinstance(node, exp.ArgMax), nulls_first=False)
        agg = exp.ArrayAgg(this=exp.Order(this=arg.copy(), expressions=[ordered]))
        filtered = exp.Filter(this=agg, expression=exp.Where(this=condition))
        first = exp.Bracket(this=exp.paren(filtered), expressions=[exp.Literal.number(0)])
        tree = first if outer is tree else tree
        outer.replace(first)
    return tree


_check_lock = threading.Lock()
_check_connection: duckdb.DuckDBPyConnection | None = None


def _type_check(formula: CompiledFormula, *, schema: DatasetSchema) -> None:
    """Bind the formula against an empty table of the declared column types (no rows are read)."""
    global _check_connection
    columns = ", ".join(f"CAST(NULL AS {_DUCKDB_TYPES[c.type]}) AS {_quote(c.name)}" for c in schema.columns)
    source = f"(SELECT {columns} LIMIT 0) AS src"
    queries = [("expression", f"SELECT {_duck(_executable_tree(formula))} AS v FROM {source}")]  # noqa: S608
    if formula.row_filter is not None:
        row_filter = _duck(sqlglot.parse_one(formula.row_filter, read=_READ_DIALECT))
        queries.append(("row_filter", f"SELECT ({row_filter}) AS v FROM {source}"))  # noqa: S608
    with _check_lock:
        if _check_connection is None:
            _check_connection = _connect()
        for location, query in queries:
            try:
                result_type = str(_check_connection.sql(query).types[0])
            except duckdb.Error as err:
                reason = str(err).split("\n", 1)[0]
                raise _invalid(
                    f"the {_what(location)} does not fit the columns of dataset '{schema.name}': {reason}",
                    location=location,
                    code="formula_type",
                ) from err
            if location == "row_filter" and result_type != "BOOLEAN":
                raise _invalid(
                    f"the row filter must be true or false for each row; '{formula.row_filter}' is {result_type}",
                    location=location,
                    code="formula_type",
                )
            if location == "expression" and not (
                result_type in _NUMERIC_RESULT_TYPES or result_type.startswith("DECIMAL")
            ):
                hint = " (use epoch(...) to turn a duration into seconds)" if result_type == "INTERVAL" else ""
                raise _invalid(
                    f"the formula must produce a number; '{formula.expression}' is {result_type}{hint}",
                    location=location,
                    code="formula_type",
                )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _duck(tree: exp.Expr) -> str:
    return tree.sql(dialect="duckdb", identify=True)
