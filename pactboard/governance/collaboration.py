"""Strategy notes and the knowledge base (F18): who may do what, the reads, and the writes with their audit.

- A strategy note is the client's: its managers write, edit and share it. Until it is shared it is a
  draft that only the client's members see; the provider sees shared notes (a draft is a 404 to them).
- The knowledge base belongs to both parties: contributors of either party write articles; an article
  is edited by contributors of the party that wrote it. Each article shows its author and party.
- Search matches every word of the query, case-insensitively, in the title, the body or the tags, with
  portable ORM lookups (``icontains``), so it behaves the same on SQLite and PostgreSQL.

docs/governance.md, "Collaboration".
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import Literal

from django.db import transaction
from django.db.models import Q

from pactboard.accounts.models import Membership
from pactboard.audit.services import audit_record
from pactboard.core.errors import PactboardError, invalid, not_found
from pactboard.core.locks import for_update
from pactboard.engagements.models import Engagement
from pactboard.governance.collaboration_models import Article, ArticleQuerySet, StrategyNote, StrategyNoteQuerySet
from pactboard.governance.policy import ALLOWED, NOT_FOUND, Verdict

NoteAction = Literal["read", "write"]
ArticleAction = Literal["write", "edit"]

CLIENT_MANAGERS_ONLY = "Strategy notes are the client's: only its administrators and managers write and share them."
CONTRIBUTORS_WRITE = "Viewers read the knowledge base; ask a contributor or a manager to write."
OWN_PARTY_EDITS = "An article is edited by its own party: ask a contributor of {party} to change it."
TAG = re.compile(r"[^a-z0-9]+")
MAX_TAGS = 10
MAX_QUERY_WORDS = 8


def _require(verdict: Verdict) -> None:
    if not verdict.allowed:
        raise PactboardError(verdict.reason, kind=verdict.kind)


def _audit(actor: Membership, action: str, obj: StrategyNote | Article, **after: object) -> None:
    audit_record(
        actor=actor.user,
        organisation=actor.organisation,
        action=action,
        obj=obj,
        after=after or None,
        engagement_id=obj.engagement_id,
    )


# --- policy ---------------------------------------------------------------------------------------


def note_may(
    *, actor: Membership, engagement: Engagement, action: NoteAction, note: StrategyNote | None = None
) -> Verdict:
    """Reading: the client always, the provider once shared. Writing and sharing: the client's managers."""
    role = engagement.party_role(actor.organisation_id)
    if role is None:
        return NOT_FOUND
    if note is not None and role == "provider" and not note.is_shared:
        return NOT_FOUND  # a draft does not exist for the provider
    if action == "read":
        return ALLOWED
    return ALLOWED if role == "client" and actor.is_manager else Verdict(False, CLIENT_MANAGERS_ONLY)


def article_may(
    *, actor: Membership, engagement: Engagement, action: ArticleAction, article: Article | None = None
) -> Verdict:
    """Contributors of either party write; an article is edited by its own party's contributors."""
    if engagement.party_role(actor.organisation_id) is None:
        return NOT_FOUND
    if not actor.can_contribute:
        return Verdict(False, CONTRIBUTORS_WRITE)
    if action == "edit" and article is not None and article.author_org_id != actor.organisation_id:
        return Verdict(False, OWN_PARTY_EDITS.format(party=article.author_org.name))
    return ALLOWED


# --- reads ----------------------------------------------------------------------------------------


def note_list(*, membership: Membership, engagement: Engagement) -> StrategyNoteQuerySet:
    """The notes the actor may read: every note for the client, shared ones for the provider."""
    qs = (
        StrategyNote.objects.visible_to(membership).filter(engagement=engagement).select_related("author", "updated_by")
    )
    if engagement.party_role(membership.organisation_id) != "client":
        qs = qs.shared()
    return qs


def note_get(*, membership: Membership, engagement: Engagement, note_id: int) -> StrategyNote:
    note = note_list(membership=membership, engagement=engagement).filter(pk=note_id).first()
    if note is None:
        raise not_found("No such strategy note.")
    return note


def query_words(q: str) -> list[str]:
    """The words of a search, at most MAX_QUERY_WORDS (each must match)."""
    return [w for w in q.split() if w][:MAX_QUERY_WORDS]


def article_list(*, membership: Membership, engagement: Engagement, q: str = "", tag: str = "") -> ArticleQuerySet:
    """The engagement's articles matching every word of ``q`` (title, body or tags) and the tag, newest first."""
    qs = (
        Article.objects.visible_to(membership)
        .filter(engagement=engagement)
        .select_related("author", "author_org", "updated_by")
    )
    for word in query_words(q):
        qs = qs.filter(Q(title__icontains=word) | Q(body__icontains=word) | Q(tags__icontains=word))
    tag = tag_normalise(tag)
    if tag:
        qs = qs.filter(tags__contains=f",{tag},")
    return qs


def article_get(*, membership: Membership, engagement: Engagement, article_id: int) -> Article:
    article = article_list(membership=membership, engagement=engagement).filter(pk=article_id).first()
    if article is None:
        raise not_found("No such article.")
    return article


def article_tags(*, membership: Membership, engagement: Engagement) -> list[tuple[str, int]]:
    """Every tag of the engagement's articles with how many articles carry it, most used first (one query)."""
    counts: Counter[str] = Counter()
    for tags in Article.objects.visible_to(membership).filter(engagement=engagement).values_list("tags", flat=True):
        counts.update(t for t in tags.split(",") if t)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


# --- writes ---------------------------------------------------------------------------------------


def tag_normalise(tag: str) -> str:
    """ "Night Shift" -> "night-shift": lower case, words joined by hyphens."""
    return TAG.sub("-", tag.strip().lower()).strip("-")[:40]


def tags_parse(tags: str | list[str]) -> list[str]:
    """Comma-separated (or listed) tags, normalised, each once, in the order given."""
    items = tags.split(",") if isinstance(tags, str) else tags
    out: list[str] = []
    for item in items:
        tag = tag_normalise(item)
        if tag and tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise invalid(
            f"At most {MAX_TAGS} tags per article: remove {len(out) - MAX_TAGS}.", location="tags", code="too_many_tags"
        )
    return out


def _text(title: str, body: str) -> tuple[str, str]:
    title, body = title.strip(), body.strip()
    if not title:
        raise invalid("Give it a title.", location="title", code="required")
    if len(title) > 200:
        raise invalid(f"The title is {len(title)} characters long: keep it to 200.", location="title", code="too_long")
    if not body:
        raise invalid("Write the text (Markdown).", location="body", code="required")
    return title, body


def note_create(
    *, actor: Membership, engagement: Engagement, title: str, body: str, share: bool, now: datetime
) -> StrategyNote:
    """Write a strategy note (a draft unless ``share``)."""
    _require(note_may(actor=actor, engagement=engagement, action="write"))
    title, body = _text(title, body)
    with transaction.atomic():
        note = StrategyNote.objects.create(
            engagement=engagement,
            title=title,
            body=body,
            shared_at=now if share else None,
            author=actor.user,
            updated_by=actor.user,
        )
        _audit(actor, "strategy_note.create", note, title=title, shared=share)
    return note


def note_update(*, actor: Membership, note: StrategyNote, title: str, body: str) -> StrategyNote:
    """Change a note's title and text (a shared note stays shared)."""
    with transaction.atomic():
        note = for_update(StrategyNote.objects.all()).select_related("engagement").get(pk=note.pk)
        _require(note_may(actor=actor, engagement=note.engagement, action="write", note=note))
        title, body = _text(title, body)
        before = {"title": note.title, "body": note.body}
        note.title, note.body, note.updated_by = title, body, actor.user
        note.save(update_fields=["title", "body", "updated_by", "updated_at"])
        _audit(actor, "strategy_note.update", note, title=title, changed_body=before["body"] != body)
    return note


def note_share(*, actor: Membership, note: StrategyNote, shared: bool, now: datetime) -> StrategyNote:
    """Share a note with the provider, or withdraw it to a draft; doing it twice changes nothing."""
    with transaction.atomic():
        note = for_update(StrategyNote.objects.all()).select_related("engagement").get(pk=note.pk)
        _require(note_may(actor=actor, engagement=note.engagement, action="write", note=note))
        if note.is_shared == shared:
            return note
        note.shared_at = now if shared else None
        note.updated_by = actor.user
        note.save(update_fields=["shared_at", "updated_by", "updated_at"])
        _audit(actor, "strategy_note.share" if shared else "strategy_note.withdraw", note)
    return note


def article_create(
    *, actor: Membership, engagement: Engagement, kind: str, title: str, body: str, tags: str | list[str]
) -> Article:
    """Add a practice or a lesson learned to the knowledge base."""
    _require(article_may(actor=actor, engagement=engagement, action="write"))
    if kind not in Article.Kind.values:
        raise invalid(
            f"{kind!r} is not a kind of article: use 'practice' or 'lesson'.", location="kind", code="invalid_choice"
        )
    title, body = _text(title, body)
    tag_list = tags_parse(tags)
    with transaction.atomic():
        article = Article.objects.create(
            engagement=engagement,
            kind=kind,
            title=title,
            body=body,
            tags="," + ",".join(tag_list) + "," if tag_list else "",
            author=actor.user,
            author_org=actor.organisation,
            updated_by=actor.user,
        )
        _audit(actor, "article.create", article, title=title, kind=kind, tags=tag_list)
    return article


def article_update(
    *, actor: Membership, article: Article, kind: str, title: str, body: str, tags: str | list[str]
) -> Article:
    """Change an article (its own party's contributors)."""
    if kind not in Article.Kind.values:
        raise invalid(
            f"{kind!r} is not a kind of article: use 'practice' or 'lesson'.", location="kind", code="invalid_choice"
        )
    with transaction.atomic():
        article = for_update(Article.objects.all()).select_related("engagement", "author_org").get(pk=article.pk)
        _require(article_may(actor=actor, engagement=article.engagement, action="edit", article=article))
        title, body = _text(title, body)
        tag_list = tags_parse(tags)
        article.kind, article.title, article.body = kind, title, body
        article.tags = "," + ",".join(tag_list) + "," if tag_list else ""
        article.updated_by = actor.user
        article.save(update_fields=["kind", "title", "body", "tags", "updated_by", "updated_at"])
        _audit(actor, "article.update", article, title=title, kind=kind, tags=tag_list)
    return article


__all__ = [
    "article_create",
    "article_get",
    "article_list",
    "article_may",
    "article_tags",
    "article_update",
    "note_create",
    "note_get",
    "note_list",
    "note_may",
    "note_share",
    "note_update",
    "tags_parse",
]
