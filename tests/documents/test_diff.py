"""`pactboard engagement diff A.yaml B.yaml` and its API twin: what changed between two documents.

Expected changes are read off the two documents by hand: entries are matched by identity (KPIs by
code, objectives by key, datasets by name, milestones by date), so reordering is no change.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from pactboard.documents.spec import document_load
from pactboard.documents.spec.diff import document_diff
from tests.conftest import api_client
from tests.documents.test_document import DEMO_FILES

SUPPORT = next(p for p in DEMO_FILES if p.name == "customer-support.yaml")


def _edited(text: str) -> str:
    # Three edits by hand: the FCR target 75 -> 77, the monthly fee, and the csat objective removed
    # from the objectives list is too drastic (KPIs refer to it), so instead its deadline moves.
    text = text.replace(
        "    target: 75\n    thresholds: {amber: 70, stretch: 80}",
        "    target: 77\n    thresholds: {amber: 70, stretch: 80}",
        1,
    )
    text = text.replace("monthly_fee: 412500.00", "monthly_fee: 415000.00", 1)
    return text.replace(
        "    deadline: 2027-12-31\n    owner: vera.client@northwind.example\n    relevance: Satisfied",
        "    deadline: 2028-03-31\n    owner: vera.client@northwind.example\n    relevance: Satisfied",
        1,
    )


def test_the_same_document_has_no_differences():
    text = SUPPORT.read_text(encoding="utf-8")
    assert document_diff(document_load(text), document_load(text)) == []


def test_numbers_compare_as_decimals():
    text = SUPPORT.read_text(encoding="utf-8")
    same = text.replace("    target: 75\n", "    target: 75.0\n", 1)
    assert same != text
    assert document_diff(document_load(text), document_load(same)) == []


def test_changes_are_named_by_identity_with_before_and_after():
    text = SUPPORT.read_text(encoding="utf-8")
    changes = document_diff(document_load(text), document_load(_edited(text)))
    assert [(c.path, c.before, c.after) for c in changes] == [
        ("engagement.monthly_fee", "412500.00", "415000.00"),
        ("objectives[csat].deadline", "2027-12-31", "2028-03-31"),
        ("kpis[fcr].target", "75", "77"),
    ]


def test_added_and_removed_entries_and_reordering():
    text = SUPPORT.read_text(encoding="utf-8")
    before = document_load(text)
    kpis = list(before.kpis)
    fcr = kpis[0]
    after = before.model_copy(update={"kpis": [*kpis[1:], fcr.model_copy(update={"code": "fcr2"})]})
    changes = document_diff(before, after)
    assert [(c.kind, c.path) for c in changes] == [("removed", "kpis[fcr]"), ("added", "kpis[fcr2]")]
    # Reordering alone is no change.
    assert document_diff(before, before.model_copy(update={"kpis": [*kpis[1:], fcr]})) == []


def test_command_prints_one_line_per_change_and_exits_1(tmp_path: Path, capsys):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    text = SUPPORT.read_text(encoding="utf-8")
    a.write_text(text, encoding="utf-8")
    b.write_text(_edited(text), encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("engagement", "diff", str(a), str(b))
    assert caught.value.returncode == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "~ engagement.monthly_fee: 412500.00 -> 415000.00",
        "~ objectives[csat].deadline: 2027-12-31 -> 2028-03-31",
        "~ kpis[fcr].target: 75 -> 77",
    ]
    call_command("engagement", "diff", str(a), str(a))
    assert capsys.readouterr().out.strip() == "No differences."


def test_command_names_the_invalid_file(tmp_path: Path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(SUPPORT.read_text(encoding="utf-8"), encoding="utf-8")
    b.write_text("pactboard: 1\nengagement: {}\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"b\.yaml"):
        call_command("engagement", "diff", str(a), str(b))


@pytest.mark.django_db
def test_api_diff_returns_the_same_changes(world):
    text = SUPPORT.read_text(encoding="utf-8")
    client = api_client(world.client_manager)
    response = client.post(
        "/api/documents/diff", data=json.dumps({"a": text, "b": _edited(text)}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert [(c["kind"], c["path"], c["before"], c["after"]) for c in response.json()["changes"]] == [
        ("changed", "engagement.monthly_fee", "412500.00", "415000.00"),
        ("changed", "objectives[csat].deadline", "2027-12-31", "2028-03-31"),
        ("changed", "kpis[fcr].target", "75", "77"),
    ]
    bad = client.post(
        "/api/documents/diff", data=json.dumps({"a": text, "b": "pactboard: 1\n"}), content_type="application/json"
    )
    assert bad.status_code == 422
    assert bad.json()["details"][0]["location"].startswith("b")


@pytest.mark.django_db
def test_api_validate_and_export_round_trip(world):
    client = api_client(world.client_manager)
    exported = client.get(f"/api/engagements/{world.engagement.pk}/document")
    assert exported.status_code == 200
    assert exported["Content-Type"].startswith("application/yaml")
    text = exported.content.decode()
    checked = client.post("/api/documents/validate", data=json.dumps({"text": text}), content_type="application/json")
    assert checked.status_code == 200, checked.content
    assert checked.json()["engagement"] == world.engagement.name
    again = client.post("/api/documents/diff", data=json.dumps({"a": text, "b": text}), content_type="application/json")
    assert again.json() == {"changes": []}
    # Another tenant's engagement is not found.
    outsider = api_client(world.other_provider_manager)
    assert outsider.get(f"/api/engagements/{world.engagement.pk}/document").status_code == 404
