"""A settlement statement as PDF: what the settlement page shows, on paper, for the parties' files.

WeasyPrint lays out an HTML template (``incentives/settlement_pdf.html``), so the statement reads like
the page and every amount goes through the same money filter. The PDF also carries the engagement's
audit head when it was made: whoever holds the paper can check later, with the head hash, that the
engagement's audit chain still contains everything up to that moment (``docs/audit.md``).
"""

from __future__ import annotations

from datetime import datetime

from django.template.loader import render_to_string

from pactboard.audit.selectors import audit_head
from pactboard.incentives.exports import TOTALS
from pactboard.incentives.models import Settlement


def settlement_pdf(*, settlement: Settlement, made_at: datetime) -> bytes:
    """The statement of ``settlement`` as a PDF document, with the audit head as of ``made_at``."""
    engagement = settlement.engagement
    statement = settlement.statement
    context = {
        "engagement": engagement,
        "settlement": settlement,
        "statement": statement,
        "totals": [(label, statement[key]) for key, label in TOTALS],
        "adjustment_lines": [x for x in statement["lines"] if x["kind"] == "adjustment"],
        "head": audit_head(engagement_id=engagement.pk),
        "made_at": made_at,
    }
    html = render_to_string("incentives/settlement_pdf.html", context)
    # Imported here: WeasyPrint loads Pango through the system's libraries, and without them only this
    # download should fail, not every page of the site at start-up.
    from weasyprint import HTML

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
