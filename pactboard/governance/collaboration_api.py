"""REST endpoints for strategy notes, the knowledge base and the wins feed (the same services as the pages).

Mounted on the governance router (governance/api.py). Every error has the one body of pactboard.core.api
(``ErrorOut``): 403 when the actor's role may not do it, 404 when the engagement or object is not one
the actor may see (a provider asking for a draft note gets a 404 too), 422 for bad input.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from ninja import Schema
from ninja.responses import Status

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.api import ApiRouter, Mapped, mapped, paged
from pactboard.engagements.models import Engagement
from pactboard.engagements.selectors import engagement_get
from pactboard.governance import collaboration as collab
from pactboard.governance import wins
from pactboard.governance.collaboration_models import Article, StrategyNote, Win
from pactboard.governance.markdown_safe import markdown_to_safe_html

router = ApiRouter(tags=["collaboration"])


class NoteOut(Schema):
    id: int
    title: str
    body: str
    html: str
    shared: bool
    shared_at: datetime | None
    author_email: str
    updated_at: datetime


class NoteIn(Schema):
    title: str
    body: str
    share: bool = False


class NotePatch(Schema):
    title: str | None = None
    body: str | None = None
    shared: bool | None = None


class ArticleOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    html: str
    tags: list[str]
    author_email: str
    author_organisation: str
    party: str
    updated_at: datetime


class ArticleIn(Schema):
    kind: str = "practice"
    title: str
    body: str
    tags: list[str] = []


class ArticlePatch(Schema):
    kind: str | None = None
    title: str | None = None
    body: str | None = None
    tags: list[str] | None = None


class WinOut(Schema):
    id: int
    kind: str
    kpi_code: str
    period: str
    message: str
    evidence: dict[str, Any]
    posted_at: datetime
    author_email: str | None
    author_organisation: str | None
    party: str | None


class KudosIn(Schema):
    kpi_code: str
    period: str
    message: str


def _note_out(n: StrategyNote) -> dict[str, Any]:
    return {
        "id": n.pk,
        "title": n.title,
        "body": n.body,
        "html": markdown_to_safe_html(n.body),
        "shared": n.is_shared,
        "shared_at": n.shared_at,
        "author_email": n.author.email,
        "updated_at": n.updated_at,
    }


def _article_out(a: Article, engagement: Engagement) -> dict[str, Any]:
    return {
        "id": a.pk,
        "kind": a.kind,
        "title": a.title,
        "body": a.body,
        "html": markdown_to_safe_html(a.body),
        "tags": a.tag_list,
        "author_email": a.author.email,
        "author_organisation": a.author_org.name,
        "party": engagement.party_role(a.author_org_id) or "",
        "updated_at": a.updated_at,
    }


def _win_out(w: Win, engagement: Engagement) -> dict[str, Any]:
    return {
        "id": w.pk,
        "kind": w.kind,
        "kpi_code": w.kpi_code,
        "period": w.period,
        "message": w.message,
        "evidence": w.evidence,
        "posted_at": w.posted_at,
        "author_email": w.author.email if w.author else None,
        "author_organisation": w.author_org.name if w.author_org else None,
        "party": engagement.party_role(w.author_org_id) if w.author_org_id else None,
    }


# --- strategy notes -------------------------------------------------------------------------------


@router.get("/engagements/{engagement_id}/strategy-notes", response={200: list[NoteOut]})
@paged
def list_strategy_notes(request: AuthenticatedHttpRequest, engagement_id: int) -> Mapped[StrategyNote, dict[str, Any]]:
    """The notes the actor may read: every note (drafts too) for the client, shared ones for the provider."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    return mapped(collab.note_list(membership=request.membership, engagement=engagement), _note_out)


@router.post("/engagements/{engagement_id}/strategy-notes", response={201: NoteOut})
def create_strategy_note(request: AuthenticatedHttpRequest, engagement_id: int, payload: NoteIn) -> Status:
    """Write a note (client managers); ``share`` shares it with the provider at once, else it is a draft."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    note = collab.note_create(
        actor=request.membership,
        engagement=engagement,
        title=payload.title,
        body=payload.body,
        share=payload.share,
        now=timezone.now(),
    )
    return Status(201, _note_out(note))


@router.get("/engagements/{engagement_id}/strategy-notes/{note_id}", response={200: NoteOut})
def get_strategy_note(request: AuthenticatedHttpRequest, engagement_id: int, note_id: int) -> dict[str, Any]:
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    return _note_out(collab.note_get(membership=request.membership, engagement=engagement, note_id=note_id))


@router.patch("/engagements/{engagement_id}/strategy-notes/{note_id}", response={200: NoteOut})
def update_strategy_note(
    request: AuthenticatedHttpRequest, engagement_id: int, note_id: int, payload: NotePatch
) -> dict[str, Any]:
    """Change the title or text, and share (``shared: true``) or withdraw (``false``) the note."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    note = collab.note_get(membership=request.membership, engagement=engagement, note_id=note_id)
    if payload.title is not None or payload.body is not None:
        note = collab.note_update(
            actor=request.membership,
            note=note,
            title=note.title if payload.title is None else payload.title,
            body=note.body if payload.body is None else payload.body,
        )
    if payload.shared is not None:
        note = collab.note_share(actor=request.membership, note=note, shared=payload.shared, now=timezone.now())
    return _note_out(collab.note_get(membership=request.membership, engagement=engagement, note_id=note.pk))


# --- knowledge base -------------------------------------------------------------------------------


@router.get("/engagements/{engagement_id}/articles", response={200: list[ArticleOut]})
@paged
def list_articles(
    request: AuthenticatedHttpRequest, engagement_id: int, q: str = "", tag: str = ""
) -> Mapped[Article, dict[str, Any]]:
    """Search the knowledge base: every word of ``q`` in the title, text or tags; ``tag`` keeps one whole tag."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    articles = collab.article_list(membership=request.membership, engagement=engagement, q=q, tag=tag)
    return mapped(articles, lambda a: _article_out(a, engagement))


@router.post("/engagements/{engagement_id}/articles", response={201: ArticleOut})
def create_article(request: AuthenticatedHttpRequest, engagement_id: int, payload: ArticleIn) -> Status:
    """Add a practice or a lesson learned (contributors of either party)."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    article = collab.article_create(
        actor=request.membership,
        engagement=engagement,
        kind=payload.kind,
        title=payload.title,
        body=payload.body,
        tags=payload.tags,
    )
    return Status(201, _article_out(article, engagement))


@router.get("/engagements/{engagement_id}/articles/{article_id}", response={200: ArticleOut})
def get_article(request: AuthenticatedHttpRequest, engagement_id: int, article_id: int) -> dict[str, Any]:
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    return _article_out(
        collab.article_get(membership=request.membership, engagement=engagement, article_id=article_id), engagement
    )


@router.patch("/engagements/{engagement_id}/articles/{article_id}", response={200: ArticleOut})
def update_article(
    request: AuthenticatedHttpRequest, engagement_id: int, article_id: int, payload: ArticlePatch
) -> dict[str, Any]:
    """Change an article (contributors of the party that wrote it); fields left out keep their value."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    a = collab.article_get(membership=request.membership, engagement=engagement, article_id=article_id)
    collab.article_update(
        actor=request.membership,
        article=a,
        kind=a.kind if payload.kind is None else payload.kind,
        title=a.title if payload.title is None else payload.title,
        body=a.body if payload.body is None else payload.body,
        tags=a.tag_list if payload.tags is None else payload.tags,
    )
    return _article_out(
        collab.article_get(membership=request.membership, engagement=engagement, article_id=a.pk), engagement
    )


# --- wins -----------------------------------------------------------------------------------------


@router.get("/engagements/{engagement_id}/wins", response={200: list[WinOut]})
@paged
def list_wins(request: AuthenticatedHttpRequest, engagement_id: int) -> Mapped[Win, dict[str, Any]]:
    """The wins feed, newest first: automatic posts and kudos."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    feed = wins.win_feed(membership=request.membership, engagement=engagement, limit=None)
    return mapped(feed, lambda w: _win_out(w, engagement))


@router.post("/engagements/{engagement_id}/wins/kudos", response={201: WinOut})
def post_kudos(request: AuthenticatedHttpRequest, engagement_id: int, payload: KudosIn) -> Status:
    """Kudos (contributors of either party) for one agreed KPI and one of its closed periods."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    win = wins.kudos_post(
        actor=request.membership,
        engagement=engagement,
        kpi_code=payload.kpi_code,
        period=payload.period,
        message=payload.message,
        now=timezone.now(),
    )
    return Status(201, _win_out(win, engagement))
