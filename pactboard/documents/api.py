"""REST endpoints for engagement documents: validate one, diff two, export an engagement as YAML.

The same services as ``pactboard engagement validate|diff|export`` (docs/engagement-as-code.md).
Validating and diffing touch no data: any signed-in member may use them.
"""

from __future__ import annotations

from typing import Literal

from django.http import HttpResponse
from ninja import Field, Schema

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.api import ApiRouter, file_answer
from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.documents.services import (
    engagement_document_export,
    engagement_document_validate,
    engagement_version_get,
)
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


def _load(text: str, prefix: str) -> Document:
    try:
        return engagement_document_validate(text=text)
    except PactboardError as exc:
        details = [ErrorDetail(d.message, f"{prefix}.{d.location}" if d.location else prefix) for d in exc.details]
        raise PactboardError(
            f"Document {prefix}: {exc.message}", details or [ErrorDetail(exc.message, prefix)]
        ) from None


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
        warnings=[DetailOut(message=w.message, location=w.location) for w in document_warnings(document)],
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
