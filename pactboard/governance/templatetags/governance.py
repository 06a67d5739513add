"""Template tags other rooms' pages use to show governance: a KPI page's feedback, tile markers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms, template

from pactboard.engagements.models import Engagement
from pactboard.governance import policy, selectors
from pactboard.governance.forms import ThreadForm
from pactboard.governance.models import FeedbackThread

register = template.Library()


@dataclass(frozen=True)
class KpiFeedback:
    threads: list[FeedbackThread]
    can_write: bool
    form: ThreadForm | None


@register.simple_tag(takes_context=True)
def feedback_for_kpi(
    context: dict[str, Any], engagement: Engagement, kpi_code: str, threads: list[FeedbackThread]
) -> KpiFeedback:
    """The KPI's feedback threads (read by the page's view) and the form to start one on this KPI: no query."""
    membership = getattr(context.get("request"), "membership", None)
    can_write = (
        membership is not None
        and policy.engagement_may(actor=membership, engagement=engagement, action="record").allowed
    )
    form = ThreadForm(kpi_names={kpi_code: kpi_code}, initial={"kpi_code": kpi_code}) if can_write else None
    if form is not None:
        form.fields["kpi_code"].widget = forms.HiddenInput()
    return KpiFeedback(threads=threads, can_write=can_write, form=form)


@register.simple_tag
def feedback_open_codes(engagement: Engagement) -> dict[str, int]:
    """KPI code -> number of values with an open thread, for markers on dashboard tiles: one query."""
    return {code: len(starts) for code, starts in selectors.feedback_open_periods(engagement=engagement).items()}


@register.simple_tag
def chronic_codes(engagement: Engagement) -> dict[str, str]:
    """KPI code -> the period its chronic run began, for the chronic flag on tiles and KPI pages: one query."""
    return selectors.alerts_chronic(engagement=engagement)


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key)
