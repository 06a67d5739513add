"""The catalogue of standard KPIs: exact definitions and default formulas (pure data).

Each entry says which variant it uses where the industry has several, which standard dataset
its formula reads (``pactboard.formulas.schema.STANDARD_SCHEMAS``), the range of values
the KPI allows and where the definition comes from. ``docs/kpi-catalogue.md`` explains each one.
"""

from __future__ import annotations

from decimal import Decimal

from pactboard.core.errors import PactboardError
from pactboard.kpis.catalogue_kpi import PERCENT, CatalogueKpi, KpiCategory, KpiDirection
from pactboard.kpis.catalogue_uptime import AVAILABILITY_KPIS

__all__ = [
    "CATALOGUE",
    "CatalogueKpi",
    "KpiCategory",
    "KpiDirection",
    "catalogue_get",
    "catalogue_search",
]

# The service-level threshold of the default formula (the common 80/20 objective's "20").
SERVICE_LEVEL_SECONDS = 20

# "Handled" throughout the catalogue: an agent answered (replied to) the contact.
# Durations are written epoch(b) - epoch(a), not epoch(b - a): the same seconds, but DuckDB computes the
# difference of two epochs several times faster than the epoch of an interval (bench/README.md).
_HANDLED = "answered_at IS NOT NULL"


CATALOGUE: tuple[CatalogueKpi, ...] = (
    CatalogueKpi(
        code="productivity",
        name="Productivity (items per staffed hour)",
        category="operational",
        unit="items/hour",
        direction="higher",
        definition=(
            "Contacts or work items completed per staffed agent-hour: items handled divided by the paid "
            "hours agents were logged in and available for work (breaks, training and meetings excluded)."
        ),
        variant=(
            "Output per staffed hour, not per FTE or per occupied (talking) hour; the hours are the sum of "
            "staffed_seconds / 3600 over the period."
        ),
        default_period="month",
        dataset="work_log",
        formula="sum(items_handled) / (sum(staffed_seconds) / 3600.0)",
        row_filter=None,
        min_value=Decimal(0),
        max_value=None,
        source=(
            "Workforce-management convention (output per staffed hour). No single standard body fixes the "
            "denominator; COPC Inc. and ICMI publish efficiency measures with several denominators. This "
            "variant is Pactboard's choice."
        ),
        aliases=("throughput", "items per hour", "uph", "contacts per hour"),
    ),
    CatalogueKpi(
        code="turnaround_time",
        name="Turnaround time",
        category="operational",
        unit="hours",
        direction="lower",
        definition=(
            "Mean elapsed time, in hours, from when an item reached the provider (received_at) to when the "
            "provider completed it (completed_at), over the items completed in the period."
        ),
        variant=(
            "Mean, not median; calendar (24x7) hours, not business hours; items counted in the period of "
            "their completion, so items still open are not in it."
        ),
        default_period="month",
        dataset="work_items",
        formula="avg(epoch(completed_at) - epoch(received_at)) / 3600.0",
        row_filter=None,
        min_value=Decimal(0),
        max_value=None,
        source=(
            "Common service-operations definition (turnaround / resolution time); cf. resolution time in "
            "ITIL 4 incident and service request management."
        ),
        aliases=("tat", "cycle time", "resolution time"),
    ),
    CatalogueKpi(
        code="first_contact_resolution",
        name="First-contact resolution (FCR)",
        category="quality",
        unit="%",
        direction="higher",
        definition=(
            "Share of handled contacts (answered by an agent) resolved at the first contact with no repeat "
            "contact within the repeat window: contacts flagged first_contact_resolved / handled contacts x 100."
        ),
        variant=(
            "Denominator: ALL handled contacts, not only resolved ones; a contact whose flag is empty "
            "(outcome unknown, e.g. still open) counts in the denominator and not in the numerator. "
            "Abandoned contacts are outside both."
        ),
        default_period="month",
        dataset="contacts",
        formula="100.0 * count(*) filter (where first_contact_resolved) / count(*)",
        row_filter=_HANDLED,
        min_value=PERCENT[0],
        max_value=PERCENT[1],
        source=(
            "SQM Group and ICMI describe FCR as the share of contacts resolved on the first contact without a "
            "repeat contact within a set window; sources differ on the denominator (all vs resolved contacts)."
        ),
        aliases=("fcr", "first call resolution", "one-touch resolution"),
    ),
    CatalogueKpi(
        code="average_handle_time",
        name="Average handle time (AHT)",
        category="operational",
        unit="seconds",
        direction="lower",
        definition=(
            "Mean of talk + hold + after-contact work per handled contact, in seconds: the average of "
            "handle_seconds over contacts answered by an agent."
        ),
        variant="Per handled (answered) contact; abandoned contacts are excluded.",
        default_period="month",
        dataset="contacts",
        formula="avg(handle_seconds)",
        row_filter=_HANDLED,
        min_value=Decimal(0),
        max_value=None,
        source="ICMI: AHT = (talk time + hold time + after-call work) / contacts handled.",
        aliases=("aht", "handle time"),
    ),
    CatalogueKpi(
        code="service_level",
        name=f"Service level ({SERVICE_LEVEL_SECONDS} s)",
        category="operational",
        unit="%",
        direction="higher",
        definition=(
            f"Share of phone contacts offered that an agent answered within {SERVICE_LEVEL_SECONDS} seconds of "
            "arriving in the queue: answered within the threshold / all offered (answered + abandoned) x 100."
        ),
        variant=(
            f"Threshold {SERVICE_LEVEL_SECONDS} s (the '80/20' convention's 20). All offered: no abandon leaves the "
            "denominator, however soon the caller hung up. The contacts dataset records no abandon time, so the "
            f"variant in which abandons under {SERVICE_LEVEL_SECONDS} s leave the denominator needs an abandoned_at "
            "column (see docs/kpi-catalogue.md). Phone only (row filter); change the filter for chat."
        ),
        default_period="month",
        dataset="contacts",
        formula=(
            "100.0 * count(*) filter (where answered_at is not null "
            f"and (epoch(answered_at) - epoch(opened_at)) <= {SERVICE_LEVEL_SECONDS}) / count(*)"
        ),
        row_filter="channel = 'phone'",
        min_value=PERCENT[0],
        max_value=PERCENT[1],
        source=(
            "ICMI (B. Cleveland, 'Call Center Management on Fast Forward', ICMI Press): service level is "
            "'X percent of contacts answered in Y seconds'; ICMI discusses several treatments of abandoned calls."
        ),
        aliases=("sl", "tsf", "telephone service factor", "80/20", "speed of answer"),
    ),
    CatalogueKpi(
        code="average_speed_of_answer",
        name="Average speed of answer (ASA)",
        category="operational",
        unit="seconds",
        direction="lower",
        definition=(
            "Mean wait, in seconds, from arriving in the queue (opened_at) to being answered (answered_at), over "
            "answered phone contacts."
        ),
        variant="Answered contacts only (abandoned contacts' waits are not in it); phone only.",
        default_period="month",
        dataset="contacts",
        formula="avg(epoch(answered_at) - epoch(opened_at))",
        row_filter=f"channel = 'phone' AND {_HANDLED}",
        min_value=Decimal(0),
        max_value=None,
        source="ICMI: ASA = total delay of answered calls / number of answered calls.",
        aliases=("asa", "wait time"),
    ),
    CatalogueKpi(
        code="abandonment_rate",
        name="Abandonment rate",
        category="operational",
        unit="%",
        direction="lower",
        definition=(
            "Share of phone contacts offered that the caller abandoned before an agent answered: abandoned / all "
            "offered x 100."
        ),
        variant="All abandons count, short abandons included; denominator is every offered contact; phone only.",
        default_period="month",
        dataset="contacts",
        formula="100.0 * count(*) filter (where abandoned) / count(*)",
        row_filter="channel = 'phone'",
        min_value=PERCENT[0],
        max_value=PERCENT[1],
        source="ICMI: abandonment rate = abandoned contacts / contacts offered.",
        aliases=("abandon rate", "abandoned calls"),
    ),
    CatalogueKpi(
        code="accuracy_rate",
        name="Accuracy rate",
        category="quality",
        unit="%",
        direction="higher",
        definition=(
            "Share of inspected fields (or items) without error in quality-assurance samples: (fields checked - "
            "fields in error) / fields checked x 100."
        ),
        variant=(
            "Field-level accuracy. The transaction-level variant (share of samples with no error at all) is "
            "stricter: 100.0 * count(*) filter (where fields_in_error = 0) / count(*)."
        ),
        default_period="month",
        dataset="qa_samples",
        formula="100.0 * (sum(fields_checked) - sum(fields_in_error)) / sum(fields_checked)",
        row_filter=None,
        min_value=PERCENT[0],
        max_value=PERCENT[1],
        source=(
            "Back-office and data-processing convention (1 - error rate). COPC Inc. standards measure accuracy "
            "per transaction by error type (customer-, business-, compliance-critical) - the stricter variant."
        ),
        aliases=("quality score", "error rate", "qa"),
    ),
    CatalogueKpi(
        code="cost_per_contact",
        name="Cost per contact",
        category="financial",
        unit="currency",
        direction="lower",
        definition=(
            "Total fully loaded cost attributed to the period's contacts divided by the contacts handled (answered "
            "by an agent), in the engagement currency."
        ),
        variant="Per handled contact; cost attributed to abandoned contacts stays in the numerator.",
        default_period="month",
        dataset="contacts",
        formula=f"sum(cost) / count(*) filter (where {_HANDLED})",
        row_filter=None,
        min_value=Decimal(0),
        max_value=None,
        source="ICMI / contact-centre finance: cost per contact = total operating cost / contacts handled.",
        aliases=("cpc", "cost per call", "unit cost"),
    ),
    CatalogueKpi(
        code="cost_per_acquisition",
        name="Cost per acquisition (CPA)",
        category="financial",
        unit="currency",
        direction="lower",
        definition=(
            "Acquisition spend on the leads created in the period divided by how many of those leads converted "
            "into customers, in the engagement currency."
        ),
        variant=(
            "Cohort by lead creation: a period's CPA can still fall when its leads convert late. No conversion "
            "yet gives no value (not infinity)."
        ),
        default_period="month",
        dataset="leads",
        formula="sum(cost) / count(*) filter (where converted)",
        row_filter=None,
        min_value=Decimal(0),
        max_value=None,
        source="Performance-marketing definition: CPA = total acquisition cost / number of acquisitions.",
        aliases=("cpa", "cost per sale", "cost per conversion"),
    ),
    CatalogueKpi(
        code="revenue",
        name="Revenue",
        category="financial",
        unit="currency",
        direction="higher",
        definition="Sum of invoiced amounts in the period (credit notes as negative amounts), engagement currency.",
        variant="Invoiced (not cash received); all invoice kinds unless a row filter selects some.",
        default_period="month",
        dataset="invoices",
        formula="sum(amount)",
        row_filter=None,
        min_value=None,
        max_value=None,
        source="Accrual-style invoiced revenue.",
        aliases=("sales", "turnover"),
    ),
    CatalogueKpi(
        code="revenue_growth",
        name="Revenue growth",
        category="financial",
        unit="%",
        direction="higher",
        definition=(
            "Change of invoiced revenue against the immediately preceding period: (revenue - previous revenue) / "
            "previous revenue x 100."
        ),
        variant=(
            "Period over previous period (not year over year). Derived: the formula gives each period's revenue, "
            "and growth is computed from it and the previous period's value (formula_growth_vs_previous); no "
            "value when the previous period has no revenue or a non-positive one."
        ),
        default_period="month",
        dataset="invoices",
        formula="sum(amount)",
        row_filter=None,
        min_value=None,
        max_value=None,
        source="Standard period-over-period growth rate.",
        derivation="growth_vs_previous",
        aliases=("growth", "sales growth"),
    ),
    CatalogueKpi(
        code="csat",
        name="Customer satisfaction (CSAT, top-two-box)",
        category="customer_satisfaction",
        unit="%",
        direction="higher",
        definition=(
            "Share of survey responses on a 1-5 scale that are 4 or 5: responses scoring 4 or 5 / all responses "
            "scoring 1 to 5 x 100. Contacts without a response are not in the denominator."
        ),
        variant="Top-two-box over responses (not over all contacts, not the mean score).",
        default_period="month",
        dataset="contacts",
        formula="100.0 * count(*) filter (where csat in (4, 5)) / count(*) filter (where csat between 1 and 5)",
        row_filter=None,
        min_value=PERCENT[0],
        max_value=PERCENT[1],
        source=(
            "Top-two-box convention of survey research. (ACSI publishes a 0-100 satisfaction index instead - a "
            "different variant, not used here.)"
        ),
        aliases=("customer satisfaction", "top 2 box", "t2b"),
    ),
    CatalogueKpi(
        code="nps",
        name="Net Promoter Score (NPS)",
        category="customer_satisfaction",
        unit="score",
        direction="higher",
        definition=(
            "Among responses on the 0-10 likelihood-to-recommend scale: % promoters (9-10) minus % detractors "
            "(0-6); passives (7-8) count only in the denominator. From -100 to 100."
        ),
        variant="Standard NPS over responses; no response in the period gives no value.",
        default_period="quarter",
        dataset="contacts",
        formula=(
            "100.0 * (count(*) filter (where nps between 9 and 10) - count(*) filter (where nps between 0 and 6)) "
            "/ count(*) filter (where nps between 0 and 10)"
        ),
        row_filter=None,
        min_value=Decimal(-100),
        max_value=Decimal(100),
        source=(
            "F. F. Reichheld, 'The One Number You Need to Grow', Harvard Business Review, December 2003; "
            "Net Promoter System of Bain & Company."
        ),
        aliases=("net promoter", "promoters", "detractors"),
    ),
    CatalogueKpi(
        code="backlog",
        name="Backlog (open items at period end)",
        category="operational",
        unit="count",
        direction="lower",
        definition=(
            "Number of open items (received, not completed) at the end of the period, taken as the count of the "
            "last backlog snapshot taken in the period."
        ),
        variant=(
            "Approximation: the last snapshot in the period (arg_max by taken_at) stands for the period end - "
            "exact when snapshots are taken at the end of each day. One row per snapshot; if the file has one "
            "row per queue, add a row filter per queue."
        ),
        default_period="month",
        dataset="backlog_snapshots",
        formula="arg_max(open_items, taken_at)",
        row_filter=None,
        min_value=Decimal(0),
        max_value=None,
        source="ITIL 4 service desk / incident management: backlog = items open at a point in time.",
        aliases=("open items", "work in progress", "wip", "queue"),
    ),
    CatalogueKpi(
        code="sla_compliance",
        name="SLA compliance",
        category="quality",
        unit="%",
        direction="higher",
        definition=(
            "Share of items completed in the period that were completed by their SLA deadline: completed_at <= "
            "due_at / items with a deadline x 100. Items without a deadline are outside both."
        ),
        variant=(
            "Measured at completion: an item still open past its deadline counts as a miss in the period it is "
            "completed, not before."
        ),
        default_period="month",
        dataset="work_items",
        formula="100.0 * count(*) filter (where completed_at <= due_at) / count(due_at)",
        row_filter=None,
        min_value=PERCENT[0],
        max_value=PERCENT[1],
        source="ITIL 4 service level management: percentage of service level targets met.",
        aliases=("sla", "on-time", "sla attainment", "deadline"),
    ),
    *AVAILABILITY_KPIS,
)

_BY_CODE: dict[str, CatalogueKpi] = {kpi.code: kpi for kpi in CATALOGUE}


def catalogue_get(code: str) -> CatalogueKpi:
    """The catalogue entry for ``code``; raise PactboardError (not_found) if there is none."""
    kpi = _BY_CODE.get(code)
    if kpi is None:
        raise PactboardError(
            message=f"no catalogue KPI '{code}' (known: {', '.join(_BY_CODE)})",
            kind="not_found",
        )
    return kpi


def catalogue_search(text: str) -> tuple[CatalogueKpi, ...]:
    """Entries matching every word of ``text`` (case-insensitive); code, name or alias matches first."""
    words = text.lower().split()
    if not words:
        return CATALOGUE
    hits: list[tuple[int, int, CatalogueKpi]] = []
    for index, kpi in enumerate(CATALOGUE):
        title = " ".join((kpi.code.replace("_", " "), kpi.name, *kpi.aliases)).lower()
        body = " ".join((title, kpi.category.replace("_", " "), kpi.unit, kpi.definition, kpi.variant)).lower()
        if all(word in body for word in words):
            in_title = all(word in title for word in words)
            hits.append((0 if in_title else 1, index, kpi))
    return tuple(kpi for _, _, kpi in sorted(hits, key=lambda hit: (hit[0], hit[1])))
