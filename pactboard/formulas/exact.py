"""Exact evaluation of compiled formulas: exact aggregates in DuckDB, the arithmetic on them in Python.

Pure: no Django, no ORM. A formula such as ``100.0 * count(*) filter (where x) / count(*)`` is
split into its aggregates ("leaves") and the arithmetic around them. DuckDB computes every leaf of
every formula of a dataset in one pass: counts as integers, sums of integers and decimals
exactly (HUGEINT, DECIMAL(38, s)), sums of floats after rounding each value to 9 decimals (so the
total no longer depends on the order in which threads add), ``avg`` as an exact sum and a count.
Python then evaluates the arithmetic on exact fractions and rounds once, half up. The value of a
KPI is therefore the same whatever the number of threads or the order of the rows.

Shared work is done once per row: every distinct row filter or FILTER condition becomes one
boolean column that all the aggregates using it read. ``epoch(timestamp)`` is read as exact
microseconds (``epoch_us``), so a duration such as ``epoch(b) - epoch(a)`` is an exact decimal.

A formula using something outside this exact subset (quantiles, ``round``, ``case`` around
aggregates, ...) is computed whole by DuckDB as before, in the same pass, and its float result
rounded half up (docs/formulas.md says which functions these are).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlglot
from sqlglot import exp

from pactboard.formulas.compile import CompiledFormula, _duck, _executable_tree
from pactboard.formulas.whitelist import _AGGREGATE_TYPES, _READ_DIALECT

#: Floats are summed as this exact decimal type: each value rounded to 9 places first.
FLOAT_SUM_TYPE = "DECIMAL(38, 9)"

_EXACT_SUM_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER")
_FLOAT_TYPES = ("FLOAT", "DOUBLE")

# A program is a small tree evaluated per (group, period) row: ("leaf", i), ("num", (n, d)),
# ("null",) or (operator, *arguments).
Program = tuple[Any, ...]


class NotExact(Exception):
    """The formula uses something the exact evaluator does not cover: DuckDB computes it whole."""


@dataclass
class ExactPlan:
    """Everything one query needs: boolean condition columns, aggregate leaves, and per-key programs."""

    conditions: dict[str, str] = field(default_factory=dict)  # condition SQL -> column alias
    leaves: dict[str, int] = field(default_factory=dict)  # aggregate SQL -> index in the result row
    count_leaves: set[int] = field(default_factory=set)  # count_if gives NULL for "never known": read 0
    programs: dict[str, Program] = field(default_factory=dict)
    whole: dict[str, int] = field(default_factory=dict)  # key -> leaf computing the formula whole

    def condition(self, sql: str) -> str:
        if sql not in self.conditions:
            self.conditions[sql] = f"__pb_c{len(self.conditions)}"
        return self.conditions[sql]

    def leaf(self, sql: str, *, count: bool = False) -> int:
        if sql not in self.leaves:
            self.leaves[sql] = len(self.leaves)
        if count:
            self.count_leaves.add(self.leaves[sql])
        return self.leaves[sql]


def _rewrite_epochs(tree: exp.Expr, types: Mapping[str, str]) -> exp.Expr:
    """epoch(timestamp column) as exact seconds from integer microseconds (a double loses them).

    A duration ``epoch(b) - epoch(a)`` becomes one subtraction of integers, scaled once: a
    DECIMAL(18, 6), which DuckDB adds up as fast as integers.
    """

    def timestamp_column(node: exp.Expr) -> str | None:
        is_column = isinstance(node, exp.TimeToUnix) and isinstance(node.this, exp.Column)
        if is_column and types.get(node.this.name, "").startswith("TIMESTAMP"):
            return _duck(node.this)
        return None

    def seconds(micros: str) -> exp.Expr:
        return sqlglot.parse_one(
            f"(CAST({micros} AS DECIMAL(18, 0)) * CAST(0.000001 AS DECIMAL(18, 6)))", read=_READ_DIALECT
        )

    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Sub):
            b, a = timestamp_column(node.this), timestamp_column(node.expression)
            if a is not None and b is not None:
                return seconds(f"epoch_us({b}) - epoch_us({a})")
        column = timestamp_column(node)
        if column is not None:
            return seconds(f"epoch_us({column})")
        return node

    return tree.copy().transform(rewrite)


def plan_build(
    *,
    formulas: Mapping[str, CompiledFormula],
    types: Mapping[str, str],
    bind_types: Callable[[list[str]], list[str]],
) -> ExactPlan:
    """Split every formula into shared conditions, exact leaves and a program; or compute it whole.

    ``types`` are the files' column types; ``bind_types`` returns the DuckDB types of row-level
    expressions over the files (used to choose how a sum is made exact).
    """
    plan = ExactPlan()
    pending: list[tuple[str, exp.Expr, str | None]] = []
    for key, formula in formulas.items():
        tree = _rewrite_epochs(sqlglot.parse_one(formula.expression, read=_READ_DIALECT), types)
        row_filter = None
        if formula.row_filter is not None:
            condition = _rewrite_epochs(sqlglot.parse_one(formula.row_filter, read=_READ_DIALECT), types)
            row_filter = _duck(condition)
        pending.append((key, tree, row_filter))
    # The types of every sum's and avg's argument, bound once for all formulas.
    arguments = sorted(
        {
            _duck(node.this)
            for _, tree, _ in pending
            for node in tree.find_all(exp.Sum, exp.Avg)
            if not isinstance(node.this, exp.Distinct)
        }
    )
    argument_types = dict(zip(arguments, bind_types(arguments), strict=True)) if arguments else {}
    for key, tree, row_filter in pending:
        try:
            plan.programs[key] = _program(tree, plan=plan, row_filter=row_filter, argument_types=argument_types)
        except NotExact:
            plan.whole[key] = plan.leaf(_duck(_executable_tree(formulas[key])))
    return plan


def _program(tree: exp.Expr, *, plan: ExactPlan, row_filter: str | None, argument_types: Mapping[str, str]) -> Program:
    if isinstance(tree, exp.Paren):
        return _program(tree.this, plan=plan, row_filter=row_filter, argument_types=argument_types)
    if isinstance(tree, (exp.Filter, _AGGREGATE_TYPES)):
        return _aggregate(tree, plan=plan, row_filter=row_filter, argument_types=argument_types)
    if isinstance(tree, exp.Literal) and tree.is_number:
        return ("num", Decimal(tree.this).as_integer_ratio())
    if isinstance(tree, exp.Null):
        return ("null",)

    def sub(node: exp.Expr) -> Program:
        return _program(node, plan=plan, row_filter=row_filter, argument_types=argument_types)

    if isinstance(tree, exp.Neg):
        return ("neg", sub(tree.this))
    if isinstance(tree, (exp.Add, exp.Sub, exp.Mul, exp.Div)):
        op = {exp.Add: "add", exp.Sub: "sub", exp.Mul: "mul", exp.Div: "div"}[type(tree)]
        return (op, sub(tree.this), sub(tree.expression))
    if isinstance(tree, exp.Nullif):
        return ("nullif", sub(tree.this), sub(tree.expression))
    if isinstance(tree, exp.Abs):
        return ("abs", sub(tree.this))
    if isinstance(tree, (exp.Coalesce, exp.Least, exp.Greatest)):
        op = {exp.Coalesce: "coalesce", exp.Least: "least", exp.Greatest: "greatest"}[type(tree)]
        return (op, *(sub(a) for a in [tree.this, *tree.expressions]))
    raise NotExact


def _aggregate(
    node: exp.Expr, *, plan: ExactPlan, row_filter: str | None, argument_types: Mapping[str, str]
) -> Program:
    own: str | None = None
    agg = node
    if isinstance(node, exp.Filter):
        agg = node.this
        own = _duck(node.args["expression"].this)
    if not isinstance(agg, (exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max)):
        raise NotExact
    aliases = [plan.condition(c) for c in (row_filter, own) if c is not None]
    where = " AND ".join(aliases)
    arg = agg.this
    filtered = f" FILTER (WHERE {where})" if where else ""
    if isinstance(agg, exp.Count):
        if isinstance(arg, exp.Star):
            if where:
                return ("leaf", plan.leaf(f"count_if({where})", count=True))
            return ("leaf", plan.leaf("count(*)"))
        return ("leaf", plan.leaf(f"count({_duck(arg)}){filtered}", count=True))
    if isinstance(arg, exp.Distinct):
        raise NotExact  # sum/avg/min/max of distinct values: rare, left whole to DuckDB
    text = _duck(arg)
    if isinstance(agg, (exp.Min, exp.Max)):
        # The least or greatest value does not depend on the order rows arrive in.
        return ("leaf", plan.leaf(f"{agg.key}({text}){filtered}"))
    kind = argument_types.get(text, "")
    if kind in _FLOAT_TYPES:
        summed = f"CAST({text} AS {FLOAT_SUM_TYPE})"
    elif kind in _EXACT_SUM_TYPES or kind.startswith("DECIMAL") or kind == "BOOLEAN":
        summed = f"CAST({text} AS BIGINT)" if kind == "BOOLEAN" else text
    else:
        raise NotExact
    total = plan.leaf(f"sum({summed}){filtered}")
    if isinstance(agg, exp.Sum):
        return ("leaf", total)
    return ("div", ("leaf", total), ("leaf", plan.leaf(f"count({text}){filtered}", count=True)))


# An exact number is a pair (numerator, denominator) of integers, denominator > 0, not reduced:
# a few multiplications of Python integers are much cheaper than Fraction's gcd at every step.
Exact = tuple[int, int]


def exact_number(value: Any) -> Exact | None:
    """A DuckDB result as an exact number: floats by their shortest decimal form; NaN/inf as no value."""
    if value is None:
        return None
    if isinstance(value, int):  # bool too
        return (int(value), 1)
    if isinstance(value, Decimal):
        return value.as_integer_ratio()
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return Decimal(repr(value)).as_integer_ratio()
    raise TypeError(type(value).__name__)


def _compare(a: Exact, b: Exact) -> int:
    left, right = a[0] * b[1], b[0] * a[1]  # denominators are positive
    return (left > right) - (left < right)


def program_run(program: Program, leaves: Sequence[Exact | None]) -> Exact | None:
    """Evaluate a program over one row of exact leaves with SQL's NULL rules; x / 0 is NULL."""
    op = program[0]
    if op == "leaf":
        return leaves[program[1]]
    if op == "num":
        number: Exact = program[1]
        return number
    if op == "null":
        return None
    args = [program_run(p, leaves) for p in program[1:]]
    if op == "coalesce":
        return next((a for a in args if a is not None), None)
    if op in ("least", "greatest"):  # DuckDB's least/greatest skip NULLs
        present = [a for a in args if a is not None]
        if not present:
            return None
        best = present[0]
        for other in present[1:]:
            if _compare(other, best) == (-1 if op == "least" else 1):
                best = other
        return best
    if op == "nullif":
        first, second = args
        return None if first is None or (second is not None and _compare(first, second) == 0) else first
    if any(a is None for a in args):
        return None
    if op == "neg":
        n, d = args[0]  # type: ignore[misc]
        return (-n, d)
    if op == "abs":
        n, d = args[0]  # type: ignore[misc]
        return (abs(n), d)
    (an, ad), (bn, bd) = args  # type: ignore[misc]
    if op == "add":
        return (an * bd + bn * ad, ad * bd)
    if op == "sub":
        return (an * bd - bn * ad, ad * bd)
    if op == "mul":
        return (an * bn, ad * bd)
    if op == "div":
        if bn == 0:
            return None
        return (an * bd, ad * bn) if bn > 0 else (-an * bd, -ad * bn)
    raise ValueError(op)


def round_half_up(value: Exact, places: int) -> Decimal:
    """``value`` rounded once to ``places`` decimals, halves away from zero (Decimal's ROUND_HALF_UP)."""
    n, d = value
    units = (2 * abs(n) * 10**places + d) // (2 * d)  # floor(|value| x 10^places + 1/2)
    # Read from text: exact, no Decimal context (28 digits) rounds a large value a second time.
    return Decimal(f"{'-' if n < 0 and units else ''}{units}e-{places}")
