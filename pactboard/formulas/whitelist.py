"""What a formula may contain: the whitelist of aggregates, scalar functions, operators and date parts, and
the checks that refuse everything else (nesting depth, nodes, casts, aggregation, row filters).

Pure: no Django. ``compile.formula_compile`` parses a formula and runs these checks on its tree before
anything reaches DuckDB; every refusal is a ``PactboardError`` naming the formula's part and the fix.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.formulas.schema import DatasetSchema

_READ_DIALECT = "duckdb"

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


def _invalid(message: str, *, location: str, code: str) -> PactboardError:
    return PactboardError(message=message, details=[ErrorDetail(message=message, location=location, code=code)])


def _snippet(node: exp.Expr) -> str:
    text = node.sql(dialect=_READ_DIALECT)
    return text if len(text) <= 80 else text[:77] + "..."


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
