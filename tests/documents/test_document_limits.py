"""A hostile engagement document is refused with a message, never a traceback (issue 13, item 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pactboard.core.errors import PactboardError
from pactboard.documents.spec import document_load
from tests.documents.test_document import MINIMAL
from tests.documents.test_engagement_cli import ACME, refused, write


def test_a_yaml_integer_of_100k_digits_is_refused_by_validate(tmp_path: Path) -> None:
    # Python refuses to read an integer of more than 4,300 digits (ValueError): the document
    # reader must turn that into a refusal that names the place and the limit.
    text = ACME.replace("target: 300", "target: " + "9" * 100_000, 1)
    assert text != ACME
    message, lines = refused("validate", write(tmp_path, text))
    assert message.startswith("The engagement document was refused")
    assert len(lines) == 1
    assert "digits" in lines[0]
    assert "at most" in lines[0]
    assert "9" * 30 not in lines[0]  # the input is shown as an excerpt at most
    assert len("\n".join(lines)) < 500


@pytest.mark.parametrize("number", ["9" * 100_000, "-" + "1" * 5000, "0x" + "f" * 5000, "1_" * 3000 + "1"])
def test_huge_integers_anywhere_are_refused(number: str) -> None:
    with pytest.raises(PactboardError) as err:
        document_load(MINIMAL.replace("monthly_fee: 412500", f"monthly_fee: {number}"))
    assert len(str(err.value)) < 1000
