"""The settlement statement as PDF: the page's numbers on paper, with the audit head when it was made.

The text is read back with pypdf, so these tests check what a reader of the PDF sees, not the HTML.
"""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from pactboard.audit.selectors import audit_head
from pactboard.incentives import services
from pactboard.incentives.models import Settlement
from pactboard.kpis.models import AgreementVersion
from tests.conftest import World, client_for
from tests.incentives.conftest import record
from tests.incentives.test_services import finalise


def _url(world: World, settlement: Settlement, fmt: str = "pdf") -> str:
    return reverse("incentives:settlement_export", args=[world.engagement.pk, settlement.pk, fmt])


def _text(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.content))
    # Table cells wrap where the page needs it: compare with every run of white space as one space.
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.fixture
def march(world: World, schemed: AgreementVersion) -> Settlement:
    record(world, "2026-03", "88")
    return services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period="2026-03")


def test_the_pdf_is_a_download_named_after_engagement_and_month(world: World, march: Settlement) -> None:
    response = client_for(world.client_viewer).get(_url(world, march))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="settlement-{world.engagement.pk}-2026-03.pdf"'
    assert response.content.startswith(b"%PDF-")


def test_the_settlement_page_links_the_pdf(world: World, march: Settlement) -> None:
    page = client_for(world.client_viewer).get(reverse("incentives:settlement", args=[world.engagement.pk, march.pk]))
    assert f'href="{_url(world, march)}"' in page.content.decode()


def test_an_outsider_gets_404(world: World, march: Settlement) -> None:
    assert client_for(world.outsider).get(_url(world, march)).status_code == 404
    # The settlement of one engagement under another engagement's URL is no PDF either.
    other = reverse("incentives:settlement_export", args=[world.other_engagement.pk, march.pk, "pdf"])
    assert client_for(world.outsider).get(other).status_code == 404
    assert client_for(world.client_manager).get(other).status_code == 404


def test_the_pdf_holds_every_line_and_the_totals_of_a_draft(world: World, march: Settlement) -> None:
    # Worked in tests/incentives/test_views.py (test_both_parties_approve_on_the_page, what-if): QA 88 is
    # in 85 ≤ QA < 90, so qa-credit = 5 % × the monthly fee 100,000.00 = 5,000.00 due; 88 < 97, no bonus.
    # Net = bonuses − credits due = 0.00 − 5,000.00; no adjustments, so payable = net.
    text = _text(client_for(world.client_viewer), _url(world, march))
    assert "Settlement statement 2026-03" in text
    assert world.engagement.name in text
    assert "EUR" in text
    assert "Draft" in text
    assert "Client approval not yet" in text
    assert "qa-credit (credit, critical)" in text
    # Each line's computed amount, then its amount (then its earn-back status).
    assert "qa-credit (credit, critical) qa_score 88 85 ≤ value < 90 €5,000.00 €5,000.00 due" in text
    assert "qa-bonus (bonus) qa_score 88 value < 97 €0.00 €0.00" in text
    assert "Credits due €5,000.00" in text
    assert "Credits pending earn-back €0.00" in text
    assert "Credits waived €0.00" in text
    assert "Bonuses €0.00" in text
    assert "Net (bonuses − credits due) -€5,000.00" in text
    assert "Adjustments €0.00" in text
    assert "Payable -€5,000.00" in text
    assert "None: no earlier final month changed." in text
    for explanation in (x["explanation"] for x in march.statement["lines"]):
        assert " ".join(explanation.split()) in text


def test_the_pdf_of_a_final_month_with_an_adjustment(world: World, march: Settlement) -> None:
    # tests/incentives/test_services.py (test_a_correction_after_final_becomes_exactly_one_adjustment_line):
    # March settled at QA 88, net −5,000.00; recounted to 84 (< 85: 10 % × 100,000 = −10,000.00), the
    # adjustment is −10,000.00 − (−5,000.00) = −5,000.00. April at QA 90 is met: no credit, no bonus, net
    # 0.00, payable = 0.00 + (−5,000.00) = −5,000.00.
    finalise(world, march)
    record(world, "2026-04", "90")
    record(world, "2026-03", "84", reason="late recount")
    april = finalise(
        world, services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period="2026-04")
    )
    head = audit_head(engagement_id=world.engagement.pk)
    text = _text(client_for(world.provider_manager), _url(world, april))
    flat = text.replace(" ", "")  # a hash may wrap
    assert "Final, final since" in text
    assert world.client_manager.user.display_name in text
    assert world.provider_manager.user.display_name in text
    assert "adjustment:2026-03 -€5,000.00" in text  # in the Adjustments table
    assert "Net (bonuses − credits due) €0.00" in text
    assert "Adjustments -€5,000.00" in text
    assert "Payable -€5,000.00" in text
    assert april.content_hash in flat
    # The audit head as the PDF was made: downloading writes no event, so it is the head read before.
    assert head.seq > 0
    assert f"event {head.seq}" in text
    assert head.hash in flat
