"""Defences of the formula engine against a hostile tenant (issue 13, items 1 and 2).

A formula check must cost work in proportion to the formula's length, refuse what is too long or
too deeply nested with a message naming the limit, and the DuckDB connection it computes on must
find nothing outside the files it was given even if the whitelist had a gap.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot.generator import Generator

from pactboard.core.errors import PactboardError
from pactboard.formulas import MAX_FORMULA_DEPTH, MAX_FORMULA_LENGTH, CompiledFormula, duckdb_session, formula_compile
from pactboard.formulas import compile as compile_module
from pactboard.formulas.compute import formula_compute
from pactboard.formulas.duckdb_session import formula_connect, query_run
from pactboard.formulas.schema import CONTACTS


@contextmanager
def _generator_calls() -> Iterator[list[int]]:
    """Count calls of sqlglot's SQL generator (one per node written), the work a check does on text."""
    counter = [0]
    original = Generator.sql

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        counter[0] += 1
        return original(self, *args, **kwargs)

    Generator.sql = counting  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        Generator.sql = original  # type: ignore[method-assign]


def _sum_of_terms(n: int) -> str:
    return " + ".join(f"sum(csat) * {i % 10}" for i in range(1, n + 1))


def _work(formula: str) -> int:
    compile_module.formula_compile_cache_clear()
    with _generator_calls() as calls:
        formula_compile(expression=formula, schema=CONTACTS)
    return calls[0]


def test_check_work_grows_linearly_with_the_formula():
    # A sum of n terms is a left-deep tree n levels deep. Regenerating every node's SQL for its
    # error snippet writes each subtree again: 1 + 2 + ... + n nodes, so doubling n would
    # quadruple the work. Linear work doubles it (plus a constant): allow up to 2.5 times.
    small, large = _work(_sum_of_terms(100)), _work(_sum_of_terms(200))
    assert large <= 2.5 * small, (small, large)


def test_a_4000_character_formula_is_checked():
    formula = _sum_of_terms(400)[: MAX_FORMULA_LENGTH - 30]
    formula = formula[: formula.rfind(" +")]
    assert 3500 < len(formula) <= MAX_FORMULA_LENGTH
    compile_module.formula_compile_cache_clear()
    started = time.process_time()
    compiled = formula_compile(expression=formula, schema=CONTACTS)
    assert compiled.columns == {"csat"}
    # Not a timed assertion of speed: a ceiling far above the linear cost (tens of milliseconds)
    # and far below the quadratic one measured before (over 20 s), so a relapse cannot pass.
    assert time.process_time() - started < 5


def test_too_long_a_formula_is_refused_naming_the_limit():
    with pytest.raises(PactboardError) as err:
        formula_compile(expression="count(*) + " * 400 + "1", schema=CONTACTS)
    assert err.value.details[0].code == "formula_too_long"
    assert f"the limit is {MAX_FORMULA_LENGTH}" in err.value.message


@pytest.mark.parametrize(
    "formula",
    [
        "(" * (MAX_FORMULA_DEPTH + 5) + "count(*)" + ")" * (MAX_FORMULA_DEPTH + 5),
        "- " * (MAX_FORMULA_DEPTH + 5) + "count(*)",
        "abs(" * (MAX_FORMULA_DEPTH + 5) + "count(*)" + ")" * (MAX_FORMULA_DEPTH + 5),
        "sum(" + "coalesce(" * (MAX_FORMULA_DEPTH + 5) + "csat" + ", 0)" * (MAX_FORMULA_DEPTH + 5) + ")",
    ],
)
def test_too_deep_a_formula_is_refused_naming_the_limit(formula):
    with pytest.raises(PactboardError) as err:
        formula_compile(expression=formula, schema=CONTACTS)
    assert err.value.details[0].code == "formula_too_deep", err.value.message
    assert f"the limit is {MAX_FORMULA_DEPTH}" in err.value.message


def test_nesting_within_the_limit_is_accepted():
    depth = MAX_FORMULA_DEPTH // 2 - 2
    formula_compile(expression="(" * depth + "count(*)" + ")" * depth, schema=CONTACTS)


def test_a_row_filter_too_deep_is_refused():
    depth = MAX_FORMULA_DEPTH + 5
    with pytest.raises(PactboardError) as err:
        formula_compile(expression="count(*)", schema=CONTACTS, row_filter="NOT " * depth + "abandoned")
    assert err.value.details[0].code == "formula_too_deep"
    assert err.value.details[0].location == "row_filter"


_TERMS = st.sampled_from(
    ["count(*)", "sum(handle_seconds)", "avg(csat)", "1", "2.5", "max(nps)", "count(*) filter (where abandoned)"]
)
_OPS = st.sampled_from([" + ", " - ", " * ", " / "])


@st.composite
def _long_or_deep(draw: st.DrawFn) -> str:
    shape = draw(st.sampled_from(["long", "parens", "functions", "unary", "mixed"]))
    n = draw(st.integers(min_value=1, max_value=1200))
    term = draw(_TERMS)
    if shape == "long":
        return term + "".join(draw(_OPS) + draw(_TERMS) for _ in range(min(n, 400)))
    if shape == "parens":
        return "(" * n + term + ")" * n
    if shape == "functions":
        fn = draw(st.sampled_from(["abs(", "round(", "coalesce(", "sqrt(", "least(1, "]))
        return fn * n + term + ")" * n
    if shape == "unary":
        return draw(st.sampled_from(["-", "- ", "+", "NOT "])) * n + term
    pieces = draw(st.lists(st.sampled_from(["(", ")", "sum(", "csat", " + ", "-", "1", ",", " * "]), max_size=n))
    return "".join(pieces)


@pytest.mark.fuzz
@settings(max_examples=60, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(formula=_long_or_deep())
def test_long_or_deep_formulas_are_accepted_or_refused_never_crash(formula):
    outcome: CompiledFormula | PactboardError
    try:
        outcome = formula_compile(expression=formula, schema=CONTACTS)
    except PactboardError as err:
        outcome = err
    if isinstance(outcome, PactboardError):
        # The message names the problem; a snippet of the formula is cut short, never the whole input.
        assert 0 < len(outcome.message) < 1000
    else:
        assert outcome.expression


# --- DuckDB lockdown -----------------------------------------------------------------------------


@pytest.fixture
def parquet(tmp_path: Path) -> Path:
    path = tmp_path / "contacts.parquet"
    table = pa.table(
        {
            "opened_at": pa.array([1_767_225_600_000_000], type=pa.timestamp("us", tz="UTC")),
            "csat": pa.array([4], type=pa.int64()),
        }
    )
    pq.write_table(table, path)
    return path


def _locked(tmp_path: Path, parquet: Path) -> duckdb.DuckDBPyConnection:
    return formula_connect(allowed_paths=[parquet])


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM read_csv('{secret}')",
        "SELECT * FROM read_parquet('{other}')",
        "SELECT * FROM read_text('{secret}')",
        "COPY (SELECT 1) TO '{out}'",
        "ATTACH '{out}.db' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET memory_limit = '64GB'",
        "SET threads = 64",
        "SET enable_external_access = true",
        "RESET lock_configuration",
    ],
)
def test_the_formula_connection_refuses_files_extensions_and_settings(tmp_path, parquet, statement):
    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2\n")
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": [1]}), other)
    con = _locked(tmp_path, parquet)
    with pytest.raises(duckdb.Error):
        con.execute(statement.format(secret=secret, other=other, out=tmp_path / "out.csv"))
    assert not (tmp_path / "out.csv").exists()
    # The file it was opened for is still readable.
    assert con.execute("SELECT csat FROM read_parquet($p)", {"p": str(parquet)}).fetchall() == [(4,)]


def test_the_formula_connection_is_bounded(tmp_path, parquet, settings):
    con = duckdb_session._connect(allowed_paths=[str(parquet)], threads=2, memory_limit="256MB")
    threads, memory = con.execute("SELECT current_setting('threads'), current_setting('memory_limit')").fetchone()
    assert threads == 2
    assert memory.endswith("MiB")
    assert float(memory.split()[0]) <= 256
    defaults = duckdb_session._connect()
    threads, memory = defaults.execute("SELECT current_setting('threads'), current_setting('memory_limit')").fetchone()
    # Defaults (duckdb_session.DEFAULT_THREADS, DEFAULT_MEMORY_LIMIT): one thread, 1 GB (= 953.6 MiB).
    assert threads == duckdb_session.DEFAULT_THREADS == 1
    assert memory == "953.6 MiB"
    assert defaults.execute("SELECT current_setting('enable_external_access')").fetchone() == (False,)
    assert defaults.execute("SELECT current_setting('autoinstall_known_extensions')").fetchone() == (False,)
    assert defaults.execute("SELECT current_setting('autoload_known_extensions')").fetchone() == (False,)


def test_a_long_query_is_interrupted_with_a_clear_error():
    con = duckdb_session._connect()
    started = time.monotonic()
    with pytest.raises(PactboardError) as err:
        # A cross join of 10^12 rows: hours of work.
        query_run(
            con,
            "SELECT count(*) FROM range(1000000) a, range(1000000) b WHERE a.range * b.range % 7 = 3",
            timeout=0.5,
        )
    assert err.value.details[0].code == "formula_timeout"
    assert "0.5 seconds" in err.value.message
    assert time.monotonic() - started < 30


def test_compute_is_interrupted_after_its_timeout(parquet):
    formula = formula_compile(expression="count(*)", schema=CONTACTS)
    with pytest.raises(PactboardError) as err:
        formula_compute(
            formulas={"n": formula},
            parquet_paths=[parquet] * 400,
            schema=CONTACTS,
            period_kind="month",
            tz="UTC",
            timeout=0.000001,
        )
    assert err.value.details[0].code == "formula_timeout"
