"""The engagement's audit trail page: events in words, filters, CSV export and the Verify button.

Both parties of an engagement read the same chain (docs/audit.md). The engagement is resolved for
the actor first (an outsider gets 404); the audit selectors then read that engagement's chain only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.core.paginator import Paginator
from django.http import HttpResponse

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.audit import selectors as audit_selectors
from pactboard.audit.describe import EventWords, event_words
from pactboard.audit.models import AuditEvent
from pactboard.audit.selectors import AuditFilterOptions, AuditFilters
from pactboard.core.csvsafe import csv_text
from pactboard.core.formatting import moment_text
from pactboard.core.htmx import render_page
from pactboard.core.views import membership_required
from pactboard.engagements.models import Engagement
from pactboard.engagements.selectors import engagement_get

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    actor = forms.ChoiceField(required=False, label="Who")
    action = forms.ChoiceField(required=False, label="Action")
    object_type = forms.ChoiceField(required=False, label="Object")
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data: Any, *, options: AuditFilterOptions) -> None:
        super().__init__(data)
        # Only what occurs in this chain can be chosen: an unknown value is an error, not an empty page.
        choices = {
            "actor": [("", "Anyone"), *((a, a) for a in options.actors)],
            "action": [("", "Any action"), *((a, a) for a in options.actions)],
            "object_type": [("", "Any object"), *((t, t) for t in options.object_types)],
        }
        for name, values in choices.items():
            cast(forms.ChoiceField, self.fields[name]).choices = values

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", f"“To” ({end}) is before “From” ({start}): swap them or clear one.")
            data.pop("date_to", None)
        return data


@dataclass(frozen=True)
class EventRow:
    event: AuditEvent
    words: EventWords


def _filters(request: AuthenticatedHttpRequest, engagement: Engagement) -> tuple[AuditFilterForm, AuditFilters]:
    options = audit_selectors.audit_filter_options(engagement_id=engagement.pk)
    form = AuditFilterForm(request.GET or None, options=options)
    data: dict[str, Any] = {}
    if form.is_bound:
        # An invalid field is reported on the page and left out of cleaned_data; the valid ones still apply.
        form.is_valid()
        data = form.cleaned_data
    filters = AuditFilters(
        actor=data.get("actor") or "",
        action=data.get("action") or "",
        object_type=data.get("object_type") or "",
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        zone=engagement.time_zone,
    )
    return form, filters


def _query(filters: AuditFilters) -> str:
    values = {
        "actor": filters.actor,
        "action": filters.action,
        "object_type": filters.object_type,
        "date_from": filters.date_from.isoformat() if filters.date_from else "",
        "date_to": filters.date_to.isoformat() if filters.date_to else "",
    }
    return urlencode({k: v for k, v in values.items() if v})


@membership_required
def audit_trail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The engagement's events, newest first, filtered and paged; HTMX gets the list partial."""
    engagement = engagement_get(membership=request.membership, engagement_id=pk)
    form, filters = _filters(request, engagement)
    events = audit_selectors.audit_event_list(engagement_id=engagement.pk, filters=filters)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = _query(filters)
    return render_page(
        request,
        page="dashboards/audit.html",
        partial="dashboards/partials/_audit_events.html",
        context={
            "engagement": engagement,
            "form": form,
            "page": page,
            "rows": [EventRow(e, event_words(e)) for e in page.object_list],
            "query": query,
            "page_query": f"{query}&" if query else "",
        },
    )


CSV_HEADER = [
    "chain",
    "seq",
    "time",
    "time (UTC)",
    "who",
    "organisation",
    "action",
    "what",
    "object type",
    "object id",
    "object",
    "changes",
    "hash",
]


@membership_required
def audit_csv(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Every event the filters select, as CSV (cells neutralised against spreadsheet formulas)."""
    engagement = engagement_get(membership=request.membership, engagement_id=pk)
    _, filters = _filters(request, engagement)
    events = audit_selectors.audit_event_list(engagement_id=engagement.pk, filters=filters)
    rows = []
    for e in events.iterator(chunk_size=2000):
        words = event_words(e)
        rows.append(
            [
                e.chain,
                e.seq,
                moment_text(e.occurred_at, zone=engagement.time_zone, seconds=True),
                e.occurred_at,
                e.actor_email or audit_selectors.SYSTEM_ACTOR,
                e.organisation_name,
                e.action,
                words.what,
                e.object_type,
                e.object_id,
                e.object_repr,
                words.changes_text,
                e.hash,
            ]
        )
    response = HttpResponse(csv_text(header=CSV_HEADER, rows=rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-engagement-{engagement.pk}.csv"'
    return response


@membership_required
def audit_verify(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Recompute the engagement's chain: the result and the head hash (HTMX: just that panel)."""
    engagement = engagement_get(membership=request.membership, engagement_id=pk)
    result = audit_selectors.audit_engagement_verify(engagement_id=engagement.pk)
    return render_page(
        request,
        page="dashboards/audit_verify.html",
        partial="dashboards/partials/_audit_verify.html",
        context={"engagement": engagement, "result": result},
    )
