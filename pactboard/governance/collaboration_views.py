"""Collaboration pages of an engagement: strategy notes, the knowledge base, the wins feed (F18)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.errors import PactboardError
from pactboard.core.forms import form_add_domain_error
from pactboard.core.htmx import render_page
from pactboard.core.views import membership_required
from pactboard.engagements.models import Engagement
from pactboard.engagements.selectors import engagement_get
from pactboard.governance import collaboration as collab
from pactboard.governance import wins
from pactboard.governance.collaboration_forms import ArticleForm, KudosForm, NoteEditForm, NoteForm
from pactboard.governance.markdown_safe import markdown_to_safe_html


def _engagement(request: AuthenticatedHttpRequest, pk: int) -> Engagement:
    return engagement_get(membership=request.membership, engagement_id=pk)


def _html(text: str) -> SafeString:
    # Safe: markdown_to_safe_html keeps only the allow-listed tags, attributes and URL schemes.
    return mark_safe(markdown_to_safe_html(text))


def _domain_error(form: forms.BaseForm, exc: PactboardError) -> None:
    """Not-found and forbidden go up as 404/403; bad input is shown at its field."""
    if exc.kind in {"not_found", "forbidden"}:
        raise exc
    form_add_domain_error(form, exc)


# --- strategy notes -------------------------------------------------------------------------------


@membership_required
@require_http_methods(["GET", "POST"])
def strategy(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    can_write = collab.note_may(actor=request.membership, engagement=engagement, action="write").allowed
    form = NoteForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                note = collab.note_create(
                    actor=request.membership, engagement=engagement, now=timezone.now(), **form.cleaned_data
                )
            except PactboardError as exc:
                _domain_error(form, exc)
            else:
                messages.success(request, "Note shared with the provider." if note.is_shared else "Draft saved.")
                return redirect("governance:strategy_note", engagement.pk, note.pk)
    notes = [(n, _html(n.body)) for n in collab.note_list(membership=request.membership, engagement=engagement)]
    return render_page(
        request,
        page="governance/collaboration/strategy.html",
        partial="governance/collaboration/partials/_notes.html",
        context={"engagement": engagement, "notes": notes, "form": form, "can_write": can_write, "tab": "strategy"},
        status=status,
    )


@membership_required
@require_http_methods(["GET", "POST"])
def strategy_note(request: AuthenticatedHttpRequest, pk: int, note_id: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    note = collab.note_get(membership=request.membership, engagement=engagement, note_id=note_id)
    can_write = collab.note_may(actor=request.membership, engagement=engagement, action="write", note=note).allowed
    form = NoteEditForm(request.POST or None, initial={"title": note.title, "body": note.body})
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                collab.note_update(actor=request.membership, note=note, **form.cleaned_data)
            except PactboardError as exc:
                _domain_error(form, exc)
            else:
                messages.success(request, "Note saved.")
                return redirect("governance:strategy_note", engagement.pk, note.pk)
    context: dict[str, Any] = {
        "engagement": engagement,
        "note": note,
        "html": _html(note.body),
        "form": form,
        "can_write": can_write,
        "tab": "strategy",
    }
    return render_page(
        request,
        page="governance/collaboration/note.html",
        partial="governance/collaboration/partials/_note.html",
        context=context,
        status=status,
    )


@membership_required
@require_POST
def strategy_note_share(request: AuthenticatedHttpRequest, pk: int, note_id: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    note = collab.note_get(membership=request.membership, engagement=engagement, note_id=note_id)
    shared = request.POST.get("shared", "1") == "1"
    collab.note_share(actor=request.membership, note=note, shared=shared, now=timezone.now())
    messages.success(request, "Shared with the provider." if shared else "Withdrawn: the note is a draft again.")
    return redirect("governance:strategy_note", engagement.pk, note.pk)


# --- knowledge base -------------------------------------------------------------------------------


@membership_required
@require_http_methods(["GET", "POST"])
def knowledge(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    can_write = collab.article_may(actor=request.membership, engagement=engagement, action="write").allowed
    form = ArticleForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                article = collab.article_create(actor=request.membership, engagement=engagement, **form.cleaned_data)
            except PactboardError as exc:
                _domain_error(form, exc)
            else:
                messages.success(request, "Article added to the knowledge base.")
                return redirect("governance:article", engagement.pk, article.pk)
    q, tag = request.GET.get("q", "").strip(), request.GET.get("tag", "").strip()
    articles = list(collab.article_list(membership=request.membership, engagement=engagement, q=q, tag=tag))
    return render_page(
        request,
        page="governance/collaboration/knowledge.html",
        partial="governance/collaboration/partials/_articles.html",
        context={
            "engagement": engagement,
            "articles": articles,
            "tags": collab.article_tags(membership=request.membership, engagement=engagement),
            "q": q,
            "tag": collab.tag_normalise(tag),
            "form": form,
            "can_write": can_write,
            "tab": "knowledge",
        },
        status=status,
    )


@membership_required
@require_http_methods(["GET", "POST"])
def article(request: AuthenticatedHttpRequest, pk: int, article_id: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    item = collab.article_get(membership=request.membership, engagement=engagement, article_id=article_id)
    can_edit = collab.article_may(actor=request.membership, engagement=engagement, action="edit", article=item).allowed
    initial = {"kind": item.kind, "title": item.title, "body": item.body, "tags": ", ".join(item.tag_list)}
    form = ArticleForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                collab.article_update(actor=request.membership, article=item, **form.cleaned_data)
            except PactboardError as exc:
                _domain_error(form, exc)
            else:
                messages.success(request, "Article saved.")
                return redirect("governance:article", engagement.pk, item.pk)
    return render_page(
        request,
        page="governance/collaboration/article.html",
        partial="governance/collaboration/partials/_article.html",
        context={
            "engagement": engagement,
            "article": item,
            "html": _html(item.body),
            "form": form,
            "can_edit": can_edit,
            "tab": "knowledge",
        },
        status=status,
    )


# --- wins -----------------------------------------------------------------------------------------


@membership_required
@require_http_methods(["GET", "POST"])
def wins_feed(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    can_post = wins.kudos_may(actor=request.membership, engagement=engagement).allowed
    kpi_names = wins.kudos_kpis(engagement=engagement) if can_post else {}
    form = KudosForm(request.POST or None, kpi_names=kpi_names)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                wins.kudos_post(
                    actor=request.membership, engagement=engagement, now=timezone.now(), **form.cleaned_data
                )
            except PactboardError as exc:
                _domain_error(form, exc)
            else:
                messages.success(request, "Kudos posted.")
                return redirect("governance:wins", engagement.pk)
        elif not can_post:
            raise PactboardError(
                wins.kudos_may(actor=request.membership, engagement=engagement).reason, kind="forbidden"
            )
    return render_page(
        request,
        page="governance/collaboration/wins.html",
        partial="governance/collaboration/partials/_wins.html",
        context={
            "engagement": engagement,
            "feed": list(wins.win_feed(membership=request.membership, engagement=engagement)),
            "form": form,
            "can_post": can_post,
            "tab": "wins",
        },
        status=status,
    )
