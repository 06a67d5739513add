"""Eighteen months of demo data (May 2025 to last month), entered the three ways a real engagement does.

- Customer support (Brightline): raw contact records, generated deterministically by one DuckDB
  query and uploaded as Parquet through ``import_batch_start`` / ``dataset_upload_run`` into the
  ``contacts`` dataset its engagement document declares, so its KPIs are computed by their formulas.
  Three versions: the history, the latest two months, and September re-sent with
  first-contact-resolution flags the first export had missed.
- Data entry (Keystone): one CSV of values per month, imported as the provider's monthly report.
- Inside sales (Summit): values typed by hand, with one correction and its reason.

The story has misses, a KPI that dips and recovers, milestones reached and a value corrected.
Every write goes through the services, so provenance and the audit trail are the real thing.
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date
from decimal import Decimal
from pathlib import Path

from django.utils import timezone

from pactboard.accounts.models import Membership
from pactboard.core.errors import PactboardError
from pactboard.core.periods import Period, periods_between
from pactboard.demo.incentives import demo_incentives_load
from pactboard.engagements.models import Engagement
from pactboard.engagements.selectors import engagement_lookup
from pactboard.engagements.services import business_change_record
from pactboard.formulas import engine_connect
from pactboard.measurements import selectors, services
from pactboard.measurements.models import Dataset, DatasetVersion, ImportBatch, Measurement

FIRST_MONTH = Period("month", date(2025, 5, 1))
SEED = 20250501

SUPPORT = "Customer support (EMEA)"
DATA_ENTRY = "Invoice and catalogue data entry"
SALES = "Loyalty programme inside sales"

# Month by month from May 2025 (index 0) to October 2026 (index 17); later months repeat the last value.
# Customer support: what the generated contacts are built to measure (the formulas then compute it).
FCR = [68.9, 69.4, 70.1, 70.6, 71.2, 71.5, 71.9, 72.3, 72.6, 72.9, 73.3, 73.6, 73.9, 74.2, 74.4, 75.3, 75.8, 76.4]
# Service level holds around its target from the start (stable: no trend, as many misses as
# exceedances), dips in February and March 2026 (a telephony migration: control-chart signals) and
# recovers by May.
SERVICE_LEVEL = [
    80.4,
    79.1,
    81.2,
    80.6,
    79.8,
    81.0,
    80.6,
    81.3,
    78.2,
    74.1,
    72.6,
    77.4,
    80.9,
    82.0,
    80.2,
    79.6,
    81.1,
    80.5,
]
CSAT = [83.1, 83.6, 84.0, 84.5, 84.9, 85.2, 85.8, 86.1, 86.0, 86.4, 86.9, 87.1, 87.4, 87.2, 87.8, 88.1, 88.3, 88.6]
AHT_SECONDS = [472, 466, 458, 451, 446, 441, 437, 434, 431, 428, 432, 426, 423, 419, 416, 414, 411, 409]
# September 2026 as first exported: some resolved-at-first-contact flags were missing (re-sent as v3).
FCR_SEPTEMBER_FIRST_EXPORT = 74.9

# Data entry: imported from the provider's monthly CSV report. Accuracy misses in April 2026 (a new
# supplier invoice layout) and recovers in June; turnaround reaches its 16-hour milestone in July 2025.
ACCURACY = [98.9, 99.0, 99.1, 99.25, 99.3, 99.34, 99.38, 99.44, 99.47, 99.52, 99.55, 98.8]
# September and October 2026 slip again (a new hire cohort): at risk in October, not yet a miss.
ACCURACY += [99.41, 99.56, 99.6, 99.63, 99.48, 99.32]
TURNAROUND_HOURS = [24.0, 19.5, 15.2, 14.1, 12.8, 11.4, 10.6, 9.8, 9.5, 9.2, 8.9, 8.4, 7.9, 7.6, 7.2, 6.9, 6.5, 5.8]
DATA_ENTRY_NOTES = {
    11: {"accuracy_rate": "New supplier invoice layout from 1 April; operators retrained by 20 April."},
    3: {"turnaround_time": "16-hour milestone reached a month early."},
}

# Inside sales: typed in by Summit's manager. September's CPA was first entered from an incomplete CRM count.
# CPA falls, but slower than its tightening milestones (52, then 48, then 45): ten misses in the twelve
# months to August 2026, so it is "consistently under-performing" although it improves.
CPA = [61.5, 58.9, 56.8, 55.9, 54.6, 54.1, 53.4, 52.8, 50.9, 50.1, 49.6, 49.2, 48.9, 48.6, 47.2, 46.3, 44.7, 43.8]
# Growth fades as the programme matures (declining). August 2026: a competitor's free loyalty tier
# stalls it, and the paid tier's price rise in October (both business changes) keeps it down: three
# misses in a row (below the amber 0.5), so the KPI is chronic from August until it is met again
# (later months repeat October's miss).
REVENUE_GROWTH = [2.9, 2.7, 3.0, 2.6, 2.8, 2.5, 2.6, 2.4, 2.2, 2.5, 2.3, 2.1, 2.2, 1.9, 2.0, 0.3, 0.2, 0.4]
CPA_CORRECTED_INDEX = 16
CPA_FIRST_ENTRY = 47.9
CPA_CORRECTION_REASON = (
    "The first count missed 212 September conversions that the CRM synced late; "
    "corrected from the CRM export of 6 October."
)

# Who does what (the demo's people, pactboard/demo/load.py).
SUPPORT_MANAGER = "paul.provider@brightline.example"
SUPPORT_TEAM_LEAD = "tara.lead@brightline.example"
DATA_ENTRY_MANAGER = "kim.manager@keystone.example"
SALES_MANAGER = "sam.sales@summit.example"


def _at(series: Sequence[float], index: int) -> float:
    return series[min(index, len(series) - 1)]


def history_months(*, today: date | None = None) -> list[Period]:
    """May 2025 to the month before ``today`` (the latest complete month)."""
    last = Period.containing("month", today or timezone.localdate()).previous()
    return periods_between("month", FIRST_MONTH, last)


def _member(email: str) -> Membership:
    return Membership.objects.select_related("user", "organisation").get(user__email=email)


def _engagement(name: str) -> Engagement | None:
    try:
        return engagement_lookup(ref=name)
    except PactboardError:
        return None


def demo_history_exists(engagements: Sequence[Engagement]) -> bool:
    # Records uploaded, not datasets declared: the support engagement's document declares its contacts.
    return (
        Measurement.objects.filter(engagement__in=engagements).exists()
        or DatasetVersion.objects.filter(dataset__engagement__in=engagements).exists()
    )


def demo_history_load(*, today: date | None = None) -> bool:
    """Load the history once; False when it is already there (or the demo engagements are not)."""
    support, data_entry, sales = (_engagement(name) for name in (SUPPORT, DATA_ENTRY, SALES))
    if support is None or data_entry is None or sales is None:
        return False
    if demo_history_exists([support, data_entry, sales]):
        return False
    months = history_months(today=today)
    with tempfile.TemporaryDirectory(prefix="pactboard-demo-") as tmp:
        work = Path(tmp)
        _support_history(support, months, work)
        _data_entry_history(data_entry, months, work)
    _sales_history(sales, months)
    _business_changes(support, data_entry, sales)
    demo_incentives_load(engagement=data_entry)
    return True


# (engagement, who logs it, date, kind, title, description, KPI codes)
BUSINESS_CHANGES: list[tuple[str, str, date, str, str, str, list[str]]] = [
    (
        SUPPORT,
        SUPPORT_MANAGER,
        date(2026, 2, 2),
        "organisational",
        "Telephony moved to a new cloud platform",
        "Queues and IVR were rebuilt; routing settled by the end of March.",
        ["service_level"],
    ),
    (
        SUPPORT,
        "vera.client@northwind.example",
        date(2026, 4, 1),
        "launch",
        "Self-service returns portal",
        "Simple returns no longer need an agent.",
        ["aht", "fcr"],
    ),
    (
        DATA_ENTRY,
        DATA_ENTRY_MANAGER,
        date(2026, 4, 1),
        "launch",
        "New supplier invoice layout",
        "Forty suppliers switched to the new layout on 1 April; operators retrained by 20 April.",
        ["accuracy_rate"],
    ),
    (
        DATA_ENTRY,
        DATA_ENTRY_MANAGER,
        date(2026, 9, 7),
        "organisational",
        "New hire cohort of 18 operators",
        "Peak-season hiring; the cohort works under double-key verification until December.",
        ["accuracy_rate"],
    ),
    (
        SALES,
        "vera.client@northwind.example",
        date(2026, 8, 3),
        "market",
        "A competitor launches a free loyalty tier",
        "Brightmart's free tier takes the upsell conversations that used to end in a paid membership.",
        ["revenue_growth"],
    ),
    (
        SALES,
        "vera.client@northwind.example",
        date(2026, 10, 1),
        "market",
        "Paid loyalty tier price rises to 59 EUR",
        "Annual price review; the previous price is honoured for renewals until January.",
        ["revenue_growth"],
    ),
]


def _business_changes(*engagements: Engagement) -> None:
    by_name = {e.name: e for e in engagements}
    for name, email, when, kind, title, description, codes in BUSINESS_CHANGES:
        business_change_record(
            actor=_member(email),
            engagement=by_name[name],
            date=when,
            kind=kind,
            title=title,
            description=description,
            kpi_codes=codes,
        )


# --- customer support: raw contacts, computed by formula -------------------------------------------


@dataclass(frozen=True)
class _Month:
    period: Period
    fcr: float
    service_level: float
    csat: float
    aht: float
    contacts: int


def contacts_parquet_write(months: Sequence[_Month], *, tz: str, path: Path, seed: int = SEED) -> int:
    """Write contacts whose formulas give each month's figures (FCR, service level, CSAT, AHT); return the count.

    One DuckDB query, no Python loop over rows. Randomness is a seeded hash of (seed, month, contact,
    purpose), so the same month always gets the same contacts, and a month re-sent with another FCR
    differs only in its first-contact-resolution flags. Shares are exact: ranks within the month pick
    round(share x eligible) contacts, and handle times are scaled to the month's mean.
    """
    path = Path(os.path.abspath(path))
    rows = []
    for m in months:
        start, _ = m.period.bounds(tz)
        start_us = int(start.astimezone(UTC).timestamp()) * 1_000_000
        span_us = int(m.period.duration(tz).total_seconds()) * 1_000_000  # elapsed, not wall-clock (DST)
        index = _index(m.period)
        abandon = 0.075 - 0.0018 * min(index, 17)
        rows.append(
            f"({index}, '{m.period.label}', {start_us}, {span_us}, {m.contacts}, "
            f"{m.fcr / 100}, {m.service_level / 100}, {m.csat / 100}, {m.aht}, {abandon})"
        )
    params = ",\n".join(rows)
    sql = f"""
    CREATE OR REPLACE MACRO u(g, k, purpose) AS (hash({seed}, g, k, purpose) % 4294967291) / 4294967291.0;
    COPY (
    WITH months(g, label, start_us, span_us, n, fcr, sl, csat, aht, abandon) AS (VALUES {params}),
    base AS (
        SELECT g, label, start_us, span_us, fcr, sl, csat, aht, abandon, unnest(range(n)) AS k FROM months
    ),
    drawn AS (
        SELECT *,
            start_us + CAST(floor(u(g, k, 'time') * span_us) AS BIGINT) AS opened_us,
            CASE WHEN u(g, k, 'channel') < 0.58 THEN 'phone' WHEN u(g, k, 'channel') < 0.85 THEN 'chat'
                 ELSE 'email' END AS channel
        FROM base
    ),
    queued AS (
        SELECT *,
            row_number() OVER (PARTITION BY g, channel ORDER BY u(g, k, 'queue'), k) AS q_rank,
            count(*) OVER (PARTITION BY g, channel) AS q_count
        FROM drawn
    ),
    answered AS (
        SELECT *,
            CASE channel WHEN 'phone' THEN q_rank <= round(abandon * q_count)
                         WHEN 'chat' THEN q_rank <= round(0.03 * q_count) ELSE false END AS abandoned,
            channel = 'phone' AND q_rank > round(abandon * q_count)
                AND q_rank <= round(abandon * q_count) + round(sl * q_count) AS fast
        FROM queued
    ),
    waited AS (
        SELECT *,
            CASE WHEN abandoned THEN NULL
                 WHEN fast THEN 3 + 17 * u(g, k, 'wait')
                 WHEN channel = 'email' THEN 600 + 13800 * u(g, k, 'wait')
                 ELSE 21 + 400 * u(g, k, 'wait') END AS wait_s,
            -(ln(u(g, k, 'h1') + 1e-12) + ln(u(g, k, 'h2') + 1e-12) + ln(u(g, k, 'h3') + 1e-12)
              + ln(u(g, k, 'h4') + 1e-12)) AS gamma4
        FROM answered
    ),
    ranked AS (
        SELECT *,
            count(*) OVER (PARTITION BY g, abandoned) AS n_answered,
            row_number() OVER (PARTITION BY g, abandoned ORDER BY u(g, k, 'fcr'), k) AS fcr_rank,
            row_number() OVER (PARTITION BY g, abandoned ORDER BY u(g, k, 'survey'), k) AS survey_rank,
            row_number() OVER (PARTITION BY g, abandoned ORDER BY u(g, k, 'nps'), k) AS nps_rank,
            aht / avg(gamma4) OVER (PARTITION BY g, abandoned) AS handle_scale
        FROM waited
    ),
    surveyed AS (
        SELECT *,
            NOT abandoned AND survey_rank <= round(0.22 * n_answered) AS responded,
            row_number() OVER (PARTITION BY g, NOT abandoned AND survey_rank <= round(0.22 * n_answered)
                               ORDER BY u(g, k, 'score'), k) AS score_rank,
            round(0.22 * n_answered) AS n_responses
        FROM ranked
    )
    SELECT
        'BL-' || label || '-' || lpad(CAST(k + 1 AS VARCHAR), 6, '0') AS contact_id,
        CAST(make_timestamp(opened_us) AS TIMESTAMPTZ) AS opened_at,
        CASE WHEN abandoned THEN NULL
             ELSE CAST(make_timestamp(opened_us + CAST(wait_s * 1e6 AS BIGINT)) AS TIMESTAMPTZ) END AS answered_at,
        CASE WHEN abandoned THEN NULL
             ELSE CAST(make_timestamp(opened_us + CAST((wait_s + gamma4 * handle_scale) * 1e6 AS BIGINT))
                       AS TIMESTAMPTZ) END AS resolved_at,
        channel,
        CASE WHEN abandoned THEN NULL ELSE fcr_rank <= round(fcr * n_answered) END AS first_contact_resolved,
        abandoned,
        CASE WHEN NOT responded THEN NULL
             WHEN score_rank <= round(csat * n_responses) THEN CASE WHEN u(g, k, 'top') < 0.35 THEN 4 ELSE 5 END
             ELSE 1 + CAST(floor(3 * u(g, k, 'low')) AS INTEGER) END AS csat,
        CASE WHEN abandoned OR nps_rank > round(0.1 * n_answered) THEN NULL
             ELSE least(10, CAST(floor(3 + 8.5 * sqrt(u(g, k, 'nps_score'))) AS INTEGER)) END AS nps,
        CASE WHEN abandoned THEN NULL ELSE gamma4 * handle_scale END AS handle_seconds,
        CAST(CASE WHEN abandoned THEN 0.35 ELSE 1.2 + gamma4 * handle_scale * 0.0105 END AS DECIMAL(12, 2)) AS cost
    FROM surveyed
    ORDER BY opened_at, contact_id
    ) TO '{path}' (FORMAT parquet, COMPRESSION zstd);
    """  # noqa: S608 - our own numbers and path, no user input
    spill = path.parent / f".spill-{path.stem}"
    # DuckDB writes over an existing file through a 'tmp_' file beside it, which is not allowed: start afresh.
    path.unlink(missing_ok=True)
    # The engine's locked-down connection (formulas/duckdb_session.py): it writes this one file and nothing else.
    con = engine_connect(
        threads=os.cpu_count() or 1,
        memory_limit="1GB",
        allowed_paths=[str(path)],
        allowed_directories=[str(spill)],
        options={"temp_directory": str(spill)},
    )
    try:
        con.execute(sql)
        row = con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()  # noqa: S608 - our own path
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
    return int(row[0]) if row else 0


def _support_months(months: Sequence[Period]) -> list[_Month]:
    out = []
    for i, period in enumerate(months):
        seasonal = 2600 if period.start.month in (11, 12) else (-1200 if period.start.month == 8 else 0)
        out.append(
            _Month(
                period=period,
                fcr=_at(FCR, i),
                service_level=_at(SERVICE_LEVEL, i),
                csat=_at(CSAT, i),
                aht=_at(AHT_SECONDS, i),
                contacts=14_000 + 40 * i + seasonal,
            )
        )
    return out


def _upload(actor: Membership, engagement: Engagement, dataset: Dataset, path: Path) -> ImportBatch:
    batch = services.import_batch_start(
        actor=actor,
        engagement=engagement,
        kind=ImportBatch.Kind.RECORDS,
        source=path,
        file_name=path.name,
        dataset=dataset,
    )
    batch = services.dataset_upload_run(batch_id=batch.pk)
    if batch.status != ImportBatch.Status.DONE:
        raise PactboardError(f"The demo upload {path.name} was refused: {batch.message} {batch.errors[:3]}")
    return batch


def _support_history(engagement: Engagement, months: Sequence[Period], work: Path) -> None:
    # Declared by the engagement's document (pactboard/demo/engagements/customer-support.yaml).
    dataset = selectors.dataset_list(engagement=engagement).get(name="contacts")
    lead = _member(SUPPORT_TEAM_LEAD)
    plan = _support_months(months)
    tz = engagement.time_zone
    # v1: the history up to two months ago; v2: the last two months; v3: September re-sent, corrected.
    split = max(1, len(plan) - 2)
    first_export = [
        _Month(m.period, FCR_SEPTEMBER_FIRST_EXPORT, m.service_level, m.csat, m.aht, m.contacts)
        if m.period.label == "2026-09"
        else m
        for m in plan
    ]
    uploads = [
        (f"contacts-{plan[0].period.label}_{plan[split - 1].period.label}.parquet", plan[:split]),
        (f"contacts-{first_export[split].period.label}_{plan[-1].period.label}.parquet", first_export[split:]),
    ]
    september = [m for m in plan if m.period.label == "2026-09"]
    if september:
        uploads.append(("contacts-2026-09-resent.parquet", september))
    for name, chunk in uploads:
        if not chunk:
            continue
        path = work / name
        # One seed per month: a re-sent month is the same contacts, differing only where its figures differ.
        contacts_parquet_write(chunk, tz=tz, path=path)
        _upload(lead, engagement, dataset, path)


def _index(period: Period) -> int:
    return (period.start.year - FIRST_MONTH.start.year) * 12 + period.start.month - FIRST_MONTH.start.month


# --- data entry: a CSV of values each month ------------------------------------------------------


def _data_entry_history(engagement: Engagement, months: Sequence[Period], work: Path) -> None:
    actor = _member(DATA_ENTRY_MANAGER)
    for i, period in enumerate(months):
        path = work / f"keystone-kpis-{period.label}.csv"
        notes = DATA_ENTRY_NOTES.get(i, {})
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["kpi", "period", "value", "note"])
            writer.writerow(["accuracy_rate", period.label, f"{_at(ACCURACY, i):.2f}", notes.get("accuracy_rate", "")])
            writer.writerow(
                ["turnaround_time", period.label, f"{_at(TURNAROUND_HOURS, i):.1f}", notes.get("turnaround_time", "")]
            )
        batch = services.import_batch_start(
            actor=actor, engagement=engagement, kind=ImportBatch.Kind.VALUES, source=path, file_name=path.name
        )
        batch = services.values_import_run(batch_id=batch.pk)
        if batch.status != ImportBatch.Status.DONE:
            raise PactboardError(f"The demo import {path.name} was refused: {batch.message} {batch.errors[:3]}")


# --- inside sales: typed in by hand, one correction --------------------------------------------------


def _sales_history(engagement: Engagement, months: Sequence[Period]) -> None:
    actor = _member(SALES_MANAGER)
    for i, period in enumerate(months):
        cpa = CPA_FIRST_ENTRY if i == CPA_CORRECTED_INDEX else _at(CPA, i)
        for code, value in (("cost_per_acquisition", cpa), ("revenue_growth", _at(REVENUE_GROWTH, i))):
            services.measurement_record(
                actor=actor, engagement=engagement, kpi_code=code, period=period, value=Decimal(f"{value:.2f}")
            )
    if len(months) > CPA_CORRECTED_INDEX:
        services.measurement_record(
            actor=actor,
            engagement=engagement,
            kpi_code="cost_per_acquisition",
            period=months[CPA_CORRECTED_INDEX],
            value=Decimal(f"{_at(CPA, CPA_CORRECTED_INDEX):.2f}"),
            reason=CPA_CORRECTION_REASON,
        )
