"""A period's scorecard page."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.formatting import number_text, ratio_percent_text, value_text
from pactboard.core.htmx import render_page
from pactboard.core.periods import Period, period_is_closed
from pactboard.core.views import membership_required
from pactboard.engagements.models import Engagement
from pactboard.measurements import selectors
from pactboard.measurements.forms import ScorecardPeriodForm
from pactboard.measurements.outlook import kpi_outlooks
from pactboard.measurements.views.common import STATUS_LABELS, _engagement


def _default_period(engagement: Engagement) -> Period:
    """Last month in the engagement's time zone (the latest complete month)."""
    return Period.containing("month", timezone.now(), engagement.time_zone).previous()


@membership_required
@require_GET
def scorecard(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A period's scorecard: value, target in force, status (text and symbol), attainment, weighted score."""
    engagement = _engagement(request, pk)
    form = ScorecardPeriodForm(request.GET if "period" in request.GET else None)
    status = 200
    period = _default_period(engagement)
    if form.is_bound:
        if form.is_valid():
            period = form.cleaned_data["period"]
        else:
            status = 422
    else:
        form = ScorecardPeriodForm(initial={"period": period.label})
    card = selectors.scorecard_for_period(engagement=engagement, period=period)
    rules = selectors.kpi_rules(engagement=engagement)
    # The trend as it stood at the end of this period (or now, for a running one): its closed periods
    # up to this one. No forecasts: the column needs the word only (docs/trends.md).
    as_of = min(timezone.now(), period.bounds(engagement.time_zone)[1])
    outlooks = kpi_outlooks(engagement=engagement, now=as_of, forecast="none")
    rows = []
    if card.scorecard is not None:
        for r in card.scorecard.results:
            text, symbol = STATUS_LABELS[r.status]
            rule = rules.get(r.code)
            unit = rule.unit if rule else ""
            rows.append(
                {
                    "code": r.code,
                    "name": rule.name if rule else r.code,
                    # Shown by the one formatting rule (docs/formatting.md): unit named, half up.
                    "value": value_text(r.value, unit=unit, currency=engagement.currency),
                    "target": value_text(r.target, unit=unit, currency=engagement.currency),
                    "amber": value_text(r.amber, unit=unit, currency=engagement.currency),
                    "stretch": value_text(r.stretch, unit=unit, currency=engagement.currency),
                    "weight": number_text(r.weight),
                    "status": r.status,
                    "status_text": text,
                    "status_symbol": symbol,
                    "attainment": ratio_percent_text(r.attainment),
                    "milestone_date": r.milestone_date,
                    "trend": outlooks.get(r.code),
                }
            )
    sc = card.scorecard
    context = {
        "engagement": engagement,
        "form": form,
        "period": period,
        "previous": period.previous(),
        "next": period.next(),
        # A period not yet ended scores partial values: say so beside the numbers.
        "in_progress": not period_is_closed(period, now=timezone.now(), tz=engagement.time_zone),
        "card": card,
        "rows": rows,
        "score": sc.score if sc else None,
        "status_score": sc.status_score if sc else None,
        "coverage": sc.coverage if sc else None,
        "counts": [(s, *STATUS_LABELS[s], n) for s, n in sc.counts.items()] if sc else [],
    }
    return render_page(
        request,
        page="measurements/scorecard.html",
        partial="measurements/partials/_scorecard.html",
        context=context,
        status=status,
    )
