"""Form helpers: domain errors become messages at the fields they name."""

from __future__ import annotations

from django import forms

from pactboard.core.errors import PactboardError


def form_add_domain_error(form: forms.BaseForm, error: PactboardError) -> None:
    """Attach a PactboardError to the form: details located at a field go to that field."""
    placed = False
    for detail in error.details:
        if detail.location and detail.location in form.fields:
            form.add_error(detail.location, detail.message)
            placed = True
        else:
            form.add_error(None, str(detail))
            placed = True
    if not placed:
        form.add_error(None, error.message)
