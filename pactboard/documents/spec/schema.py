"""The JSON Schema of the engagement document, generated from its models.

Committed as ``schemas/engagement.schema.json`` and served at ``/schemas/engagement.schema.json``.
"""

from __future__ import annotations

import json
from typing import Any

from pactboard.documents.spec.models import Document

# --- JSON Schema --------------------------------------------------------------------------------


def document_json_schema() -> dict[str, Any]:
    """The JSON Schema of the document, generated from the models."""
    return Document.model_json_schema()


def document_json_schema_text() -> str:
    """The JSON Schema as committed in ``schemas/engagement.schema.json`` and served by the app."""
    return json.dumps(document_json_schema(), indent=2, ensure_ascii=False) + "\n"
