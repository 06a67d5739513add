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
from collections.abc import Iterator
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

_READ_DIALECT = "duckdb"

#: Longest formula or row filter accepted, in characters (the catalogue's longest is ~150).
MAX_FORMULA_LENGTH = 4000
#: Deepest nesting accepted: brackets, function calls, unary signs and NOT, each one level
#: (a chain like ``a + b + c`` is one level however long). The catalogue's deepest is 6.
MAX_FORMULA_DEPTH = 32

# Aggregates a formula may use, by sqlglot node, with the name users write.
_AGGREGATES: dict[type[exp.Expr], str] = {
    exp.Count: "count",
    exp.Sum: "sum",
    exp.Avg: "avg",
    exp.Min: "min",
    exp.Max: "max",
    exp.Median: "median",
    exp.PercentileCont: "quantile_cont",
    exp.PercentileDisc: "quantile_disc",
    exp.Stddev: "stddev",
    exp.StddevSamp: "stddev_samp",
    exp.StddevPop: "stddev_pop",
    exp.Variance: "variance",
    exp.LogicalAnd: "bool_and",
    exp.LogicalOr: "bool_or",
    exp.ArgMax: "arg_max",
    exp.ArgMin: "arg_min",
}
_AGGREGATE_TYPES = tuple(_AGGREGATES)

# Scalar functions (row by row, no I/O, no state).
_SCALARS: dict[type[exp.Expr], str] = {
    exp.Coalesce: "coalesce",
    exp.Nullif: "nullif",
    exp.Abs: "abs",
    exp.Round: "round",
    exp.Floor: "floor",
    exp.Ceil: "ceil",
    exp.Sqrt: "sqrt",
    exp.Least: "least",
    exp.Greatest: "greatest",
    exp.DateDiff: "date_diff",
    exp.TimeToUnix: "epoch",
    exp.Extract: "extract",
    exp.Case: "case",
    exp.If: "if",
    exp.Cast: "cast",
    exp.TryCast: "try_cast",
}

# Operators, literals and the grammar's glue.
_STRUCTURAL: tuple[type[exp.Expr], ...] = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Neg, exp.Not,
    exp.And, exp.Or, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv, exp.Mod,
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is, exp.NullSafeEQ, exp.NullSafeNEQ,
    exp.In, exp.Between, exp.Like, exp.ILike, exp.Filter, exp.Where, exp.Star, exp.Distinct,
    exp.DataType, exp.DataTypeParam, exp.Var, exp.Interval,
)  # fmt: skip

_CAST_TARGETS = exp.DataType.NUMERIC_TYPES | {
    exp.DataType.Type.BOOLEAN,
    exp.DataType.Type.DATE,
    exp.DataType.Type.TIMESTAMP,
    exp.DataType.Type.TIMESTAMPTZ,
    exp.DataType.Type.INTERVAL,
}

# Words allowed as date parts (extract(epoch from ...), date_diff('second', ...), interval 20 second).
_DATE_PARTS = frozenset(
    {
        "EPOCH", "MICROSECOND", "MICROSECONDS", "MILLISECOND", "MILLISECONDS", "SECOND", "SECONDS",
        "MINUTE", "MINUTES", "HOUR", "HOURS", "DAY", "DAYS", "WEEK", "WEEKS", "MONTH", "MONTHS",
        "QUARTER", "QUARTERS", "YEAR", "YEARS", "DOW", "ISODOW", "DOY",
    }
)  # fmt: skip

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


def _invalid(message: str, *, location: str, code: str) -> PactboardError:
    return PactboardError(message=message, details=[ErrorDetail(message=message, location=location, code=code)])


def _snippet(node: exp.Expr) -> str:
    text = node.sql(dialect=_READ_DIALECT)
    return text if len(text) <= 80 else text[:77] + "..."


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


def _nesting(tree: exp.Expr) -> Iterator[tuple[exp.Expr, int]]:
    """Each node with its nesting level; a binary operator continuing a chain (``a + b + c``) adds none."""
    stack: list[tuple[exp.Expr, int]] = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        yield node, level
        for child in node.iter_expressions():
            chained = isinstance(child, exp.Binary) and isinstance(node, exp.Binary) and child is node.this
            stack.append((child, level if chained else level + 1))


def _check_depth(tree: exp.Expr, *, location: str) -> None:
    # Iterative, so a deep tree is measured before anything recursive (writing SQL, DuckDB's
    # binder) walks it. Identifiers and literals sit two levels below their column or value.
    limit = MAX_FORMULA_DEPTH + 2
    deepest = max(level for _, level in _nesting(tree))
    if deepest > limit:
        raise _invalid(
            f"the {_what(location)} nests {deepest - 2} levels deep; the limit is {MAX_FORMULA_DEPTH}: "
            "split it into simpler terms",
            location=location,
            code="formula_too_deep",
        )


def _what(location: str) -> str:
    return "row filter" if location == "row_filter" else "formula"


def _check_nodes(tree: exp.Expr, *, schema: DatasetSchema, location: str) -> None:
    what = _what(location)
    declared = schema.column_names
    for node in tree.walk():
        # A node's SQL is written only for a refusal: writing it for every node up front costs
        # each subtree once per ancestor, quadratic in the formula's length.
        if isinstance(node, (exp.Query, exp.Subquery)):
            raise _invalid(
                f"subqueries are not allowed in a {what}: '{_snippet(node)}'",
                location=location,
                code="formula_subquery",
            )
        if isinstance(node, (exp.Table, exp.From, exp.Join)):
            raise _invalid(
                f"table references are not allowed in a {what}: '{_snippet(node)}'",
                location=location,
                code="formula_table",
            )
        if isinstance(node, exp.WithinGroup):
            raise _invalid(
                "WITHIN GROUP (ORDER BY ...) is not supported: write quantile_cont(column, fraction) instead",
                location=location,
                code="formula_construct",
            )
        if isinstance(node, exp.Window):
            raise _invalid(
                f"window functions are not allowed in a {what}: '{_snippet(node)}'",
                location=location,
                code="formula_window",
            )
        if isinstance(node, exp.Column):
            if node.table or node.args.get("db") or node.args.get("catalog"):
                raise _invalid(
                    f"qualified column '{_snippet(node)}' is not allowed: name the column only",
                    location=location,
                    code="formula_column",
                )
            if node.name not in declared:
                raise _invalid(
                    f"unknown column '{node.name}' (declared: {', '.join(declared)})",
                    location=location,
                    code="formula_unknown_column",
                )
            continue
        if type(node) in _STRUCTURAL:
            _check_structural(node, location=location)
            continue
        if type(node) in _AGGREGATES or type(node) in _SCALARS:
            if isinstance(node, (exp.Cast, exp.TryCast)):
                _check_cast(node, location=location)
            continue
        if isinstance(node, exp.Func):
            name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
            allowed = sorted({*_AGGREGATES.values(), *_SCALARS.values()})
            raise _invalid(
                f"function '{name.lower()}' is not allowed in a {what} (allowed: {', '.join(allowed)})",
                location=location,
                code="formula_function",
            )
        raise _invalid(f"'{_snippet(node)}' is not allowed in a {what}", location=location, code="formula_construct")


def _check_cast(node: exp.Cast, *, location: str) -> None:
    to = node.args.get("to")
    if not isinstance(to, exp.DataType) or to.this not in _CAST_TARGETS:
        target = to.sql(dialect=_READ_DIALECT) if isinstance(to, exp.Expr) else "?"
        raise _invalid(
            f"cast to {target} is not allowed: cast to a numeric, boolean, date, timestamp or interval type",
            location=location,
            code="formula_cast",
        )


def _check_structural(node: exp.Expr, *, location: str) -> None:
    parent = node.parent
    if isinstance(node, exp.Star) and not isinstance(parent, exp.Count):
        raise _invalid("'*' is only allowed as count(*)", location=location, code="formula_construct")
    if isinstance(node, exp.Distinct) and not isinstance(parent, _AGGREGATE_TYPES):
        raise _invalid(
            f"DISTINCT is only allowed inside an aggregate: '{_snippet(node)}'",
            location=location,
            code="formula_construct",
        )
    if isinstance(node, exp.Var) and (
        not isinstance(parent, (exp.Extract, exp.DateDiff, exp.Interval)) or node.name.upper() not in _DATE_PARTS
    ):
        raise _invalid(f"unknown word '{node.name}'", location=location, code="formula_construct")
    if isinstance(node, exp.In) and node.args.get("query") is not None:
        raise _invalid(f"subqueries are not allowed: '{_snippet(node)}'", location=location, code="formula_subquery")
    if isinstance(node, exp.Filter) and not isinstance(node.this, _AGGREGATE_TYPES):
        raise _invalid(
            f"FILTER (WHERE ...) must follow an aggregate: '{_snippet(node)}'",
            location=location,
            code="formula_construct",
        )


def _check_aggregation(tree: exp.Expr) -> None:
    # One walk from the top that carries the aggregate each node is an input of (its arguments or
    # its FILTER condition), instead of climbing to the root from every node.
    found_aggregate = False
    stack: list[tuple[exp.Expr, exp.Expr | None]] = [(tree, None)]
    while stack:
        node, outer = stack.pop()
        if isinstance(node, _AGGREGATE_TYPES):
            if outer is not None:
                raise _invalid(
                    f"aggregates cannot be nested: '{_snippet(node)}' is inside '{_snippet(outer)}'",
                    location="expression",
                    code="formula_nested_aggregate",
                )
            found_aggregate = True
        elif isinstance(node, exp.Column) and outer is None:
            raise _invalid(
                f"the formula must aggregate: '{node.name}' is outside any aggregate",
                location="expression",
                code="formula_not_aggregate",
            )
        inner = node if isinstance(node, _AGGREGATE_TYPES) else outer
        for child in node.iter_expressions():
            if isinstance(node, exp.Filter) and child is node.args.get("expression"):
                stack.append((child, node.this if isinstance(node.this, _AGGREGATE_TYPES) else inner))
            else:
                stack.append((child, inner))
    if not found_aggregate:
        raise _invalid(
            f"the formula must aggregate (count, sum, avg, ...): '{_snippet(tree)}' has no aggregate",
            location="expression",
            code="formula_not_aggregate",
        )


def _check_row_filter(tree: exp.Expr) -> None:
    for node in tree.walk():
        if isinstance(node, (*_AGGREGATE_TYPES, exp.Filter)):
            raise _invalid(
                f"the row filter selects rows and cannot aggregate: '{_snippet(node)}'",
                location="row_filter",
                code="formula_filter_aggregate",
            )


# --- execution form --------------------------------------------------------------------------


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
