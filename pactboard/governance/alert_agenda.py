"""The agenda section for alerts the review should discuss: dips and chronic KPIs (docs/governance.md).

Registered from ``GovernanceConfig.ready()`` through ``agenda_section_register``, right after the
KPIs missed or at risk; it reads the alerts open when the agenda is built (or frozen).
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q
from django.urls import reverse

from pactboard.governance.agenda import AgendaContext, AgendaItem, Evidence
from pactboard.governance.models import Alert
from pactboard.kpis.content import plain_decimal
from pactboard.kpis.selectors import engagement_kpi_names


def alerts_attention(ctx: AgendaContext) -> list[AgendaItem]:
    """Open dip and chronic alerts raised before the meeting (chronic ones first)."""
    cut = ctx.now
    rows = list(
        Alert.objects.filter(engagement=ctx.engagement, kind__in=["chronic", "dip"], raised_at__lte=cut)
        .filter(Q(cleared_at__isnull=True) | Q(cleared_at__gt=ctx.now))
        .order_by("kind", "kpi_code", "period")
    )
    if not rows:
        return []
    names = engagement_kpi_names(engagement=ctx.engagement)
    items: list[AgendaItem] = []
    for a in rows:
        url = reverse("dashboards:kpi", args=[ctx.engagement.pk, a.kpi_code])
        name = names.get(a.kpi_code, a.kpi_code)
        if a.kind == "chronic":
            text = f"{name}: chronic, missed in a row since {a.period}"
            detail = "until it is met again"
        else:
            rules = ", ".join(str(r).replace("we", "Western Electric rule ") for r in a.evidence.get("rules", []))
            text = f"{name}: a dip in {a.period}"
            value = a.evidence.get("value")
            shown = plain_decimal(Decimal(value)) if value is not None else "—"
            detail = f"value {shown}; {rules}"
        items.append(
            AgendaItem(
                text=text,
                detail=detail,
                url=url,
                flag=a.kind,
                evidence=(
                    Evidence("KPI page", url),
                    Evidence(
                        "Values and sources", reverse("measurements:kpi_values", args=[ctx.engagement.pk, a.kpi_code])
                    ),
                ),
            )
        )
    return items
