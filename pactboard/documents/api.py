"""REST endpoints for engagement documents: validate one, diff two, import one, export an engagement as YAML.

The same services as ``pactboard engagement validate|diff|import|export`` (docs/engagement-as-code.md).
Validating and diffing touch no data: any signed-in member may use them. Importing writes (a read
token is refused) and is the service's own checks: a manager of the client creates an engagement, a
manager of either party drafts a new version of one they share.
"""

from __future__ import annotations

from typing import Literal

from django.http import HttpResponse
from ninja import Field, Schema, Status

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.api import ApiRouter, file_answer
from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.documents.selectors import (
    engagement_document_export,
    engagement_document_validate,
    engagement_version_get,
)
from pactboard.documents.services import engagement_document_import
from pactboard.documents.spec import Document, document_warnings
from pactboard.documents.spec.diff import document_diff
from pactboard.engagements.selectors import engagement_get

router = ApiRouter(tags=["documents"])

# A document is a few kilobytes; a megabyte of YAML is far past any real engagement.
MAX_DOCUMENT_CHARS = 1_000_000
DocumentText = Field(max_length=MAX_DOCUMENT_CHARS, description="The YAML document's text.")


class ValidateIn(Schema):
    text: str = DocumentText


class DetailOut(Schema):
    message: str
    location: str | None = None
    code: str | None = None


class ValidateOut(Schema):
    engagement: str
    client: str
    provider: str
    objectives: int
    kpis: int
    warnings: list[DetailOut]


class DiffIn(Schema):
    a: str = DocumentText
    b: str = DocumentText


class DocumentChangeOut(Schema):
    kind: Literal["added", "removed", "changed"]
    path: str
    before: object | None = None
    after: object | None = None


class DocumentDiffOut(Schema):
    changes: list[DocumentChangeOut]


class DocumentImportOut(Schema):
    engagement_id: int
    engagement: str
    client: str
    provider: str
    version: int
    version_status: str
    objectives: int
    kpis: int
    warnings: list[DetailOut]


def _in_body(exc: PactboardError, prefix: str) -> PactboardError:
    """``exc`` with its locations placed in the request body's field ``prefix``; its kind (status) kept."""
    details = [ErrorDetail(d.message, f"{prefix}.{d.location}" if d.location else prefix, d.code) for d in exc.details]
    return PactboardError(
        f"Document {prefix}: {exc.message}", details or [ErrorDetail(exc.message, prefix, exc.kind)], kind=exc.kind
    )


def _load(text: str, prefix: str) -> Document:
    try:
        return engagement_document_validate(text=text)
    except PactboardError as exc:
        raise _in_body(exc, prefix) from None


@router.post("/documents/validate", response={200: ValidateOut}, summary="Check a document, change nothing")
def document_validate(request: AuthenticatedHttpRequest, payload: ValidateIn) -> ValidateOut:
    document = _load(payload.text, "text")
    e = document.engagement
    return ValidateOut(
        engagement=e.name,
        client=e.client,
        provider=e.provider,
        objectives=len(document.objectives),
        kpis=len(document.kpis),
        warnings=[DetailOut(message=w.message, location=w.location, code=w.code) for w in document_warnings(document)],
    )


@router.post("/documents/import", response={201: DocumentImportOut}, summary="Import a document as a new draft version")
def document_import(request: AuthenticatedHttpRequest, payload: ValidateIn) -> Status:
    """The engagement (created if the caller's organisation, a client, has none of this name and provider) with a
    new draft version holding the document's KPIs; objectives upserted, missing datasets declared, audited as
    ``engagement.import``. All or nothing: a refused document (422, each problem at its path in ``text``)
    or one the engagement's state refuses (409, e.g. an open draft) changes nothing."""
    document = _load(payload.text, "text")  # the same refusals, word for word, as /documents/validate
    try:
        version = engagement_document_import(text=payload.text, actor=request.membership)
    except PactboardError as exc:
        raise _in_body(exc, "text") from None
    engagement = version.engagement
    return Status(
        201,
        DocumentImportOut(
            engagement_id=engagement.pk,
            engagement=engagement.name,
            client=document.engagement.client,
            provider=document.engagement.provider,
            version=version.number,
            version_status=version.status,
            objectives=len(document.objectives),
            kpis=version.kpis.count(),
            warnings=[
                DetailOut(message=w.message, location=w.location, code=w.code) for w in document_warnings(document)
            ],
        ),
    )


@router.post("/documents/diff", response={200: DocumentDiffOut}, summary="What changed from document a to document b")
def document_diff_view(request: AuthenticatedHttpRequest, payload: DiffIn) -> DocumentDiffOut:
    before, after = _load(payload.a, "a"), _load(payload.b, "b")
    return DocumentDiffOut(
        changes=[
            DocumentChangeOut(kind=c.kind, path=c.path, before=c.before, after=c.after)
            for c in document_diff(before, after)
        ]
    )


@router.get(
    "/engagements/{engagement_id}/document",
    summary="The engagement as a YAML document",
    **file_answer("application/yaml", description="The engagement document (YAML)."),
)
def document_export(request: AuthenticatedHttpRequest, engagement_id: int, version: int | None = None) -> HttpResponse:
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    chosen = engagement_version_get(engagement=engagement, number=version) if version is not None else None
    text = engagement_document_export(engagement=engagement, version=chosen)
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="engagement-{engagement.pk}.yaml"'
    return response
