"""Availability KPIs from an outages dataset: every period's value over its exact minutes.

Availability is not a per-record aggregate: an outage from 31 Oct 23:00 to 1 Nov 02:00 is down
one hour in October and two in November. So a catalogue KPI with ``derivation="availability"``
is not computed by its formula (which files records by their start) but here: all outage records
of the version are read once, and for every period the arithmetic of
``pactboard.scoring.availability`` merges, clips and counts them over ``Period.bounds`` in the
engagement's zone, with the contract's choices the catalogue entry names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from pactboard.core.errors import PactboardError
from pactboard.core.periods import Period
from pactboard.formulas import (
    DECIMAL_PLACES,
    CompiledFormula,
    ParquetFiles,
    formula_connect,
    formula_row_filter_sql,
    parquet_relation,
    query_run,
)
from pactboard.kpis.catalogue import CATALOGUE, CatalogueKpi
from pactboard.measurements.incremental import compute_limits
from pactboard.scoring.availability import Interval, availability_compute

__all__ = ["availability_entry", "availability_values"]

_QUANTUM = Decimal(1).scaleb(-DECIMAL_PLACES)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def availability_entry(*, code: str, dataset: str) -> CatalogueKpi | None:
    """The catalogue entry a KPI derives its availability from: same code, same dataset, derivation set."""
    for entry in CATALOGUE:
        if entry.code == code and entry.dataset == dataset and entry.derivation == "availability":
            return entry
    return None


def _records(
    *, parquet: ParquetFiles, formula: CompiledFormula, now: datetime
) -> tuple[list[Interval], list[Interval]]:
    """(outages, maintenance windows) of the file, row filter applied; an ongoing outage ends now."""
    # Instants as microseconds since the epoch, so no zone setting of the session can shift them;
    # the row filter is the KPI's own, already whitelisted by formula_compile.
    condition = formula_row_filter_sql(formula)
    where = f"WHERE ({condition})" if condition else ""
    # The formula engine's locked-down connection: it reads this one file and nothing else.
    limits = compute_limits()
    local = parquet.paths if parquet.filesystem is None else ()
    con = formula_connect(allowed_paths=local, threads=limits["threads"], memory_limit=limits["memory_limit"])
    try:
        columns = (
            "epoch_us(CAST(started_at AS TIMESTAMPTZ)), epoch_us(CAST(ended_at AS TIMESTAMPTZ)), "
            "coalesce(maintenance, false)"
        )
        with parquet_relation(con, paths=parquet.paths, filesystem=parquet.filesystem) as (files, params):
            query = f"SELECT {columns} FROM {files} {where}"  # noqa: S608 - a whitelisted filter, our FROM item
            rows = query_run(con, query, params, timeout=limits["timeout"])
    finally:
        con.close()
    outages: list[Interval] = []
    windows: list[Interval] = []
    for started, ended, maintenance in rows:
        start = _EPOCH + timedelta(microseconds=started)
        end = now if ended is None else _EPOCH + timedelta(microseconds=ended)
        if end <= start:  # not yet begun, or a zero-length record: no downtime to count
            continue
        (windows if maintenance else outages).append(Interval(start=start, end=end))
    return outages, windows


def availability_values(
    *,
    entries: Mapping[str, CatalogueKpi],
    formulas: Mapping[str, CompiledFormula],
    parquet: ParquetFiles,
    periods: Iterable[Period],
    tz: str,
    now: datetime,
) -> dict[str, dict[Period, Decimal | None]]:
    """Each availability KPI's percentage in every given period, rounded half up to the stored places.

    None where maintenance windows cover the whole period (nothing left to measure).
    """
    periods = list(periods)
    out: dict[str, dict[Period, Decimal | None]] = {}
    for code, entry in entries.items():
        outages, windows = _records(parquet=parquet, formula=formulas[code], now=now)
        if entry.availability_maintenance == "none":
            # Maintenance counts as downtime like any outage: the windows join the outages.
            outages, windows = outages + windows, []
        values: dict[Period, Decimal | None] = {}
        for period in periods:
            start, end = period.bounds(tz)
            try:
                result = availability_compute(
                    start=start,
                    end=end,
                    outages=outages,
                    maintenance=windows,
                    minutes=entry.availability_minutes,
                    maintenance_rule=entry.availability_maintenance,
                )
            except PactboardError as err:
                if any(d.code == "nothing_measured" for d in err.details):
                    values[period] = None
                    continue
                raise
            values[period] = result.percent.quantize(_QUANTUM, rounding=ROUND_HALF_UP)
        out[code] = values
    return out
