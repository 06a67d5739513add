"""`pactboard engagement validate|import|export|schema`, the import service and the served JSON Schema.

Against the database: an import is all or nothing, `--as-agreed` is audited as such, and
export → import → export gives the same bytes (the demo's documents and generated ones).
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings

from pactboard.accounts.models import Organisation
from pactboard.audit.models import AuditEvent
from pactboard.core.errors import PactboardError
from pactboard.documents.selectors import engagement_document_export
from pactboard.documents.services import engagement_document_import
from pactboard.documents.spec import document_dump, document_json_schema_text, document_load, kpi_fields
from pactboard.engagements.models import Engagement
from pactboard.engagements.selectors import engagement_lookup
from pactboard.formulas.schema import STANDARD_SCHEMAS
from pactboard.kpis.models import AgreementVersion, Signature
from pactboard.kpis.negotiation import version_withdraw
from pactboard.measurements.models import Dataset
from pactboard.measurements.services import dataset_declare
from tests.conftest import World, client_for
from tests.documents.conftest import import_counts
from tests.documents.test_document import DEMO_FILES, MINIMAL, WITH_DATASETS, documents

pytestmark = pytest.mark.django_db
Status = AgreementVersion.Status

# MINIMAL, for the world fixture's engagement "Acme support" (2026-01-01 to 2027-12-31).
ACME = MINIMAL.replace("name: Support", "name: Acme support").replace("monthly_fee: 412500", "monthly_fee: 100000")
# ACME with datasets: contacts (standard) and tickets (columns of its own), and a KPI computed from tickets.
ACME_DATASETS = WITH_DATASETS.replace("name: Support", "name: Acme support").replace(
    "monthly_fee: 412500", "monthly_fee: 100000"
)


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("engagement", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(*args: str) -> tuple[str, list[str]]:
    err = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("engagement", *args, stdout=io.StringIO(), stderr=err)
    assert caught.value.returncode == 1
    return str(caught.value), err.getvalue().splitlines()


def refused_codes(*args: str) -> list[str | None]:
    """The codes of the refusal the command printed (the PactboardError its CommandError was raised from)."""
    with pytest.raises(CommandError) as caught:
        call_command("engagement", *args, stdout=io.StringIO(), stderr=io.StringIO())
    refusal = caught.value.__context__
    assert isinstance(refusal, PactboardError)
    return [d.code for d in refusal.details]


def codes(exc: PactboardError) -> list[str | None]:
    return [d.code for d in exc.details]


def write(tmp_path: Path, text: str, name: str = "doc.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def counts() -> tuple[int, ...]:
    """What an import writes, and the signatures an import as agreed adds."""
    return import_counts(Signature)


def import_agreed(world: World, text: str) -> AgreementVersion:
    return engagement_document_import(
        text=text,
        actor=None,
        as_agreed=True,
        client_signer=world.client_manager,
        provider_signer=world.provider_manager,
    )


# --- validate ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", DEMO_FILES, ids=lambda p: p.name)
def test_validate_accepts_the_demo_documents(path: Path) -> None:
    out, err = run("validate", str(path))
    assert f"{path}: valid." in out
    assert err == ""


def test_validate_reports_every_problem_one_per_line_and_exits_1(tmp_path: Path) -> None:
    text = ACME.replace("thresholds: {amber: 330", "thresholds: {amber: 290").replace(
        "objectives: [speed]\n    category", "objectives: [xyz]\n    category"
    )
    message, lines = refused("validate", write(tmp_path, text))
    assert message == "The engagement document was refused (2 problems); nothing was changed."
    assert lines == [
        "kpis[0].objectives[0]: unknown objective 'xyz' (known: speed)",
        "kpis[0].thresholds.amber: must be above the target for a lower-is-better KPI (amber 290, target 300)",
    ]


def test_validate_warns_of_too_many_kpis(tmp_path: Path) -> None:
    out, err = run("validate", write(tmp_path, ACME.replace("time_zone: Europe/Berlin", "max_active_kpis: 1")))
    assert "valid" in out
    assert (
        err.strip()
        == "warning: kpis: 2 active KPIs: more than the 1 this engagement aims for; too many KPIs dilute attention"
    )


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Cannot read"):
        run("validate", str(tmp_path / "nope.yaml"))


# --- import -----------------------------------------------------------------------------------


def test_import_as_agreed_creates_the_version_signed_by_both_and_audits_it(world: World, tmp_path: Path) -> None:
    out, _ = run(
        "import",
        write(tmp_path, ACME),
        "--as-agreed",
        "--client-signer",
        "carla@acme.example",
        "--provider-signer",
        "pedro@helpline.example",
    )
    assert "as version 1, agreed (recorded as signed by both parties outside Pactboard)." in out
    version = AgreementVersion.objects.get(engagement=world.engagement)
    assert (version.status, version.effective_from) == (Status.AGREED, date(2026, 1, 1))
    assert sorted(s.organisation.name for s in version.signatures.all()) == ["Acme Retail", "Helpline BPO"]
    assert all(s.recorded_as_agreed for s in version.signatures.all())
    assert [k.code for k in version.kpis.order_by("position")] == ["aht", "first_contact_resolution"]
    aht = version.kpis.get(code="aht")
    assert (aht.target, aht.amber, aht.stretch, aht.weight) == (Decimal(300), Decimal(330), Decimal(280), Decimal(2))
    assert [(m.date, m.target) for m in aht.milestones.all()] == [(date(2026, 6, 30), Decimal(320))]
    speed = world.engagement.objectives.get(key="speed")
    assert speed.owner == world.client_manager.user
    assert set(aht.objective_links.values_list("objective_id", flat=True)) == {speed.pk}
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions.count("agreement.record_as_agreed") == 2
    imported = AuditEvent.objects.get(action="engagement.import")
    assert imported.after["as_agreed"] is True
    assert imported.after["content_hash"] == version.content_hash


def test_import_without_as_agreed_is_a_new_draft_holding_exactly_the_documents_kpis(world: World) -> None:
    import_agreed(world, ACME)
    only_fcr = ACME.replace(ACME[ACME.index("  - code: aht") : ACME.index("  - catalogue:")], "")
    draft = engagement_document_import(text=only_fcr, actor=world.provider_manager)
    assert (draft.number, draft.status) == (2, Status.DRAFT)
    assert draft.based_on is not None
    assert draft.based_on.number == 1
    assert list(draft.kpis.values_list("code", flat=True)) == ["first_contact_resolution"]  # not copied from v1
    assert draft.created_by_org == world.provider_org


def test_import_creates_a_missing_engagement_and_provider(world: World) -> None:
    text = ACME.replace("name: Acme support", "name: Acme returns").replace("Helpline BPO", "Returnly")
    version = engagement_document_import(text=text, actor=world.client_manager)
    engagement = version.engagement
    assert (engagement.name, engagement.client, engagement.provider.name) == (
        "Acme returns",
        world.client_org,
        "Returnly",
    )
    assert engagement.provider.kind == Organisation.Kind.PROVIDER
    assert engagement.monthly_fee == Decimal("100000.00")
    assert (engagement.time_zone, engagement.status, version.status) == ("Europe/Berlin", "draft", Status.DRAFT)


def test_import_brings_the_engagement_and_its_objectives_up_to_date(world: World) -> None:
    text = ACME.replace("monthly_fee: 100000", "monthly_fee: 95000.50").replace(
        "    statement: Answer quickly\n",
        "    statement: Answer quickly\n  - key: fcr\n    statement: First time right\n",
    )
    engagement_document_import(text=text, actor=world.client_manager)
    world.engagement.refresh_from_db()
    world.objective.refresh_from_db()
    assert world.engagement.monthly_fee == Decimal("95000.50")
    assert (world.objective.statement, world.objective.position) == ("First time right", 1)
    assert AuditEvent.objects.filter(action="engagement.update").count() == 1
    assert AuditEvent.objects.filter(action="objective.update").count() == 1


def test_a_refused_import_changes_nothing(world: World, tmp_path: Path) -> None:
    before = counts()
    text = ACME.replace("thresholds: {amber: 330", "thresholds: {amber: 290")
    _, lines = refused("import", write(tmp_path, text), "--actor", "carla@acme.example")
    assert lines == [
        "kpis[0].thresholds.amber: must be above the target for a lower-is-better KPI (amber 290, target 300)"
    ]
    assert counts() == before


def test_a_failure_half_way_rolls_back_everything_already_written(world: World) -> None:
    # The objective and the fee would be written first; the open draft refuses the new version after them.
    engagement_document_import(text=ACME, actor=world.client_manager)
    before = counts()
    text = ACME.replace("monthly_fee: 100000", "monthly_fee: 1").replace("Answer quickly", "Answer at once")
    with pytest.raises(PactboardError) as caught:
        engagement_document_import(text=text, actor=world.client_manager)
    assert [str(d) for d in caught.value.details] == [
        "agreement: This engagement already has an open draft: edit it, or withdraw it first."
    ]
    assert caught.value.kind == "conflict"
    assert codes(caught.value) == ["conflict"]  # the service named no detail: its kind is the code
    assert counts() == before
    world.engagement.refresh_from_db()
    assert world.engagement.monthly_fee == Decimal("100000.00")
    assert world.engagement.objectives.get(key="speed").statement == "Answer quickly"


def test_as_agreed_needs_both_signers_and_an_effective_date(world: World, tmp_path: Path) -> None:
    message, lines = refused("import", write(tmp_path, ACME), "--as-agreed", "--client-signer", "carla@acme.example")
    assert message == "The document was not imported; nothing was changed."
    assert lines == ["--as-agreed needs --client-signer EMAIL and --provider-signer EMAIL"]
    args = ("import", write(tmp_path, ACME), "--as-agreed", "--client-signer", "carla@acme.example")
    assert refused_codes(*args) == ["required"]
    with pytest.raises(PactboardError) as caught:
        engagement_document_import(
            text=ACME.replace("agreement:\n  effective_from: 2026-01-01\n", ""),
            actor=None,
            as_agreed=True,
            client_signer=world.client_manager,
        )
    assert [str(d) for d in caught.value.details] == [
        "provider_signer: name the provider's signer to import as agreed",
        "agreement: required to import as agreed: the date the signed agreement took effect",
    ]
    assert codes(caught.value) == ["required", "required"]
    empty = ACME[: ACME.index("kpis:")] + "kpis: []\n" + ACME[ACME.index("agreement:") :]
    with pytest.raises(PactboardError) as caught:
        import_agreed(world, empty)
    assert [str(d) for d in caught.value.details] == ["kpis: add at least one KPI to import the agreement as signed"]
    assert codes(caught.value) == ["no_kpis"]  # as proposing a draft without KPIs


def test_signers_must_be_managers_of_their_own_party(world: World, tmp_path: Path) -> None:
    path = write(tmp_path, ACME)
    lines_args = (
        "import",
        path,
        "--as-agreed",
        "--client-signer",
        "pedro@helpline.example",
        "--provider-signer",
        "oscar@globex.example",
    )
    _, lines = refused(*lines_args)
    assert lines == [
        "--client-signer: pedro@helpline.example is not a member of Acme Retail.",
        "--provider-signer: oscar@globex.example is not a member of Helpline BPO.",
    ]
    # membership_by_email's not_found names no detail: a person in neither party is not_a_member.
    assert refused_codes(*lines_args) == ["not_a_member", "not_a_member"]
    with pytest.raises(PactboardError) as caught:
        engagement_document_import(
            text=ACME,
            actor=None,
            as_agreed=True,
            client_signer=world.client_viewer,
            provider_signer=world.provider_manager,
        )
    assert [str(d) for d in caught.value.details] == [
        "client_signer: must be an administrator or manager of Acme Retail"
    ]
    assert codes(caught.value) == ["not_a_manager"]  # new word: a member, but not a manager


def test_an_actor_of_another_tenant_cannot_reach_the_engagement(world: World) -> None:
    before = counts()
    with pytest.raises(PactboardError) as caught:
        engagement_document_import(text=ACME, actor=world.outsider)
    assert [str(d) for d in caught.value.details] == [
        "engagement.client: no engagement 'Acme support' between Acme Retail and Helpline BPO that you can see; "
        "only a manager of Acme Retail can create it (you act for Globex)",
        "objectives[0].owner: carla@acme.example is not a member of Acme Retail or Helpline BPO",
    ]
    assert codes(caught.value) == ["cannot_create_engagement", "not_a_member"]
    assert counts() == before


def test_the_cli_needs_to_know_who_drafts(world: World, tmp_path: Path) -> None:
    _, lines = refused("import", write(tmp_path, ACME))
    assert lines == ["say who drafts the version: --actor EMAIL (a manager of either party)"]
    assert refused_codes("import", write(tmp_path, ACME)) == ["required"]


def test_signers_are_only_for_importing_as_agreed(world: World, tmp_path: Path) -> None:
    args = ("import", write(tmp_path, ACME), "--actor", "carla@acme.example", "--client-signer", "carla@acme.example")
    _, lines = refused(*args)
    assert lines == ["--client-signer and --provider-signer are only for --as-agreed"]
    assert refused_codes(*args) == ["not_applicable"]  # new word: given where it has no meaning
    with pytest.raises(PactboardError) as caught:
        engagement_document_import(text=ACME, actor=world.client_manager, client_signer=world.client_manager)
    assert [str(d) for d in caught.value.details] == ["client_signer: signers are only for importing as agreed"]
    assert codes(caught.value) == ["not_applicable"]


def test_an_owner_must_be_a_member_of_either_party(world: World) -> None:
    text = ACME.replace("owner: carla@acme.example", "owner: oscar@globex.example")
    with pytest.raises(PactboardError) as caught:
        engagement_document_import(text=text, actor=world.client_manager)
    assert [str(d) for d in caught.value.details] == [
        "objectives[0].owner: oscar@globex.example is not a member of Acme Retail or Helpline BPO"
    ]
    assert codes(caught.value) == ["not_a_member"]  # a person who is not a member of either party


def test_a_provider_manager_may_not_change_the_clients_objectives(world: World) -> None:
    draft = engagement_document_import(text=ACME, actor=world.client_manager)
    version_withdraw(actor=world.client_manager, version=draft)
    with pytest.raises(PactboardError) as caught:
        engagement_document_import(text=ACME.replace("Answer quickly", "Answer faster"), actor=world.provider_manager)
    assert [str(d) for d in caught.value.details] == [
        "objectives[0]: Only administrators and managers of the client organisation can change objectives."
    ]
    assert codes(caught.value) == ["forbidden"]  # the policy's refusal names no detail: its kind is the code


# --- datasets ---------------------------------------------------------------------------------


def test_import_declares_the_documents_datasets_and_a_kpi_reads_its_own(world: World) -> None:
    version = import_agreed(world, ACME_DATASETS)
    declared = {d.name: d for d in Dataset.objects.filter(engagement=world.engagement)}
    assert sorted(declared) == ["contacts", "tickets"]
    tickets = declared["tickets"]
    assert (tickets.time_column, tickets.description) == ("opened_at", "ITSM tickets")
    assert tickets.columns == [
        {"name": "ticket_id", "type": "text", "nullable": False, "description": ""},
        {"name": "opened_at", "type": "timestamp", "nullable": False, "description": ""},
        {"name": "priority", "type": "text", "nullable": True, "description": ""},
    ]
    assert declared["contacts"].schema().columns == STANDARD_SCHEMAS["contacts"].columns
    kpi = version.kpis.get(code="p1_tickets")
    assert (kpi.dataset, kpi.formula, kpi.row_filter) == ("tickets", "count(*)", "priority = 'P1'")
    # Declared in the same transaction, by the client's signer (no actor given).
    events = AuditEvent.objects.filter(action="dataset.declare").order_by("seq")
    assert [((e.after or {})["name"], e.actor_id) for e in events] == [
        ("contacts", world.client_manager.user_id),
        ("tickets", world.client_manager.user_id),
    ]
    imported = AuditEvent.objects.get(action="engagement.import").after or {}
    assert imported["datasets_declared"] == ["contacts", "tickets"]
    # Exported in name order as the document wrote them, and export → import → export gives the same bytes.
    first = engagement_document_export(engagement=world.engagement)
    assert document_load(first).datasets == document_load(ACME_DATASETS).datasets
    engagement_document_import(text=first, actor=world.provider_manager)
    assert engagement_document_export(engagement=world.engagement) == first
    assert Dataset.objects.filter(engagement=world.engagement).count() == 2


def test_a_dataset_declared_with_a_standards_columns_is_exported_as_that_standard(world: World) -> None:
    contacts = STANDARD_SCHEMAS["contacts"]
    dataset_declare(
        actor=world.client_manager,
        engagement=world.engagement,
        name="calls",
        columns=[
            {"name": c.name, "type": c.type, "nullable": c.nullable, "description": c.description}
            for c in contacts.columns
        ],
        time_column=contacts.time_column,
        description="Genesys exports",
    )
    dataset_declare(
        actor=world.client_manager, engagement=world.engagement, name="backlog", standard="backlog_snapshots"
    )
    import_agreed(world, ACME)
    text = engagement_document_export(engagement=world.engagement)
    assert (
        "datasets:\n"
        "  - name: backlog\n"
        "    standard: backlog_snapshots\n"
        "  - name: calls\n"
        "    standard: contacts\n"
        "    description: Genesys exports\n"
        "objectives:\n"
    ) in text
    engagement_document_import(text=text, actor=world.client_manager)
    assert engagement_document_export(engagement=world.engagement) == text


def _declare_tickets(world: World, *, priority: str = "text", time_column: str = "opened_at") -> None:
    dataset_declare(
        actor=world.client_manager,
        engagement=world.engagement,
        name="tickets",
        columns=[
            {"name": "ticket_id", "type": "text", "nullable": False},
            {"name": "opened_at", "type": "timestamp", "nullable": False},
            {"name": "closed_at", "type": "timestamp", "nullable": True},
            {"name": "priority", "type": priority},
        ],
        time_column=time_column,
    )


def test_a_declared_dataset_is_never_changed_by_an_import(world: World, tmp_path: Path) -> None:
    _declare_tickets(world)
    before = counts()
    _, lines = refused("import", write(tmp_path, ACME_DATASETS), "--actor", "carla@acme.example")
    assert lines == [
        "datasets[1].columns: the engagement's dataset 'tickets' has other columns (ticket_id text required, "
        "opened_at timestamp required, closed_at timestamp, priority text); a declared dataset never changes "
        "(its uploaded versions depend on it): use another name"
    ]
    assert counts() == before
    assert Dataset.objects.get(name="tickets").time_column == "opened_at"


def test_a_declared_datasets_time_column_is_never_changed_by_an_import(world: World) -> None:
    dataset_declare(
        actor=world.client_manager,
        engagement=world.engagement,
        name="tickets",
        columns=[
            {"name": "ticket_id", "type": "text", "nullable": False},
            {"name": "opened_at", "type": "timestamp", "nullable": False},
            {"name": "priority", "type": "text", "nullable": True},
        ],
        time_column="ticket_id",
    )
    dataset_declare(actor=world.client_manager, engagement=world.engagement, name="contacts", standard="leads")
    before = counts()
    with pytest.raises(PactboardError) as caught:
        engagement_document_import(text=ACME_DATASETS, actor=world.client_manager)
    assert [str(d) for d in caught.value.details] == [
        "datasets[0].standard: the engagement's dataset 'contacts' has other columns (lead_id text required, "
        "created_at timestamp required, campaign text, cost decimal, converted boolean required, converted_at "
        "timestamp, revenue decimal); a declared dataset never changes (its uploaded versions depend on it): "
        "use another name",
        "datasets[1].time_column: the engagement's dataset 'tickets' has the time column 'ticket_id'; a declared "
        "dataset never changes (its uploaded versions depend on it): use another name",
    ]
    assert codes(caught.value) == ["dataset_declared", "dataset_declared"]  # kept from dataset_shape_differs
    assert counts() == before


def test_only_a_manager_declares_the_documents_datasets(world: World) -> None:
    before = counts()
    with pytest.raises(PactboardError) as caught:
        engagement_document_import(text=ACME_DATASETS, actor=world.client_viewer)
    assert [str(d) for d in caught.value.details] == ["datasets[0]: Only administrators and managers declare datasets."]
    assert caught.value.kind == "forbidden"
    assert codes(caught.value) == ["forbidden"]
    assert counts() == before


def test_validate_accepts_a_kpi_on_a_dataset_the_document_declares(tmp_path: Path) -> None:
    out, err = run("validate", write(tmp_path, ACME_DATASETS))
    assert "valid." in out
    assert err == ""
    csat = ACME_DATASETS.replace("formula: count(*)\n      filter", "formula: avg(csat)\n      filter")
    _, lines = refused("validate", write(tmp_path, csat))
    assert lines == ["kpis[2].source.formula: unknown column 'csat' (declared: ticket_id, opened_at, priority)"]


# --- export and the round trip ----------------------------------------------------------------


def test_export_import_export_gives_the_same_bytes(world: World, tmp_path: Path) -> None:
    import_agreed(world, ACME)
    first = tmp_path / "first.yaml"
    second = tmp_path / "second.yaml"
    run("export", str(world.engagement.pk), "-o", str(first))
    run("import", str(first), "--actor", "pedro@helpline.example")
    run("export", "Acme support", "-o", str(second))
    assert first.read_bytes() == second.read_bytes()
    assert AgreementVersion.objects.get(engagement=world.engagement, number=2).status == Status.DRAFT
    out, _ = run("export", "Acme support", "--version", "1")
    assert out == first.read_text(encoding="utf-8")


def test_export_names_the_engagement_precisely() -> None:
    with pytest.raises(CommandError):
        run("export", "No such engagement")


def test_an_ambiguous_name_asks_for_the_id(world: World) -> None:
    Engagement.objects.create(
        client=world.other_client_org,
        provider=world.other_provider_org,
        name="Acme support",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
        currency="EUR",
    )
    with pytest.raises(PactboardError, match="Several engagements are named 'Acme support'"):
        engagement_lookup(ref="Acme support")


@given(
    document=documents(name="Acme support", client="Acme Retail", provider="Helpline BPO", effective=True, min_kpis=1)
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_generated_documents_survive_the_database_unchanged(world: World, document) -> None:  # type: ignore[no-untyped-def]
    with transaction.atomic():
        version = import_agreed(world, document_dump(document))
        assert version.status == Status.AGREED
        first = engagement_document_export(engagement=version.engagement)
        engagement_document_import(text=first, actor=world.client_manager)
        second = engagement_document_export(engagement=version.engagement)
        assert second == first
        # What was stored is what the document said, catalogue defaults filled in.
        exported = document_load(first)
        assert [kpi_fields(k) for k in exported.kpis] == [kpi_fields(k) for k in document.kpis]
        assert exported.datasets == sorted(document.datasets, key=lambda d: d.name)
        assert exported.engagement.model_dump(exclude={"status"}) == document.engagement.model_dump(exclude={"status"})
        transaction.set_rollback(True)


def test_the_demo_engagements_export_to_their_documents_byte_for_byte() -> None:
    call_command("demo", "--no-serve", stdout=io.StringIO())
    for path in DEMO_FILES:
        document = document_load(path.read_text(encoding="utf-8"))
        engagement = engagement_lookup(ref=document.engagement.name)
        version = engagement.versions.get()
        assert version.status == Status.AGREED
        assert all(s.recorded_as_agreed for s in version.signatures.all())
        signers = {
            s.organisation.name: s.signer.email for s in version.signatures.select_related("organisation", "signer")
        }
        assert signers == {
            "Northwind Retail": "vera.client@northwind.example",
            document.engagement.provider: PROVIDER_ADMINS[document.engagement.provider],
        }
        assert engagement_document_export(engagement=engagement) == path.read_text(encoding="utf-8")


PROVIDER_ADMINS = {
    "Brightline Support": "paul.provider@brightline.example",
    "Keystone Data Services": "kim.manager@keystone.example",
    "Summit Inside Sales": "sam.sales@summit.example",
}


# --- the JSON Schema ---------------------------------------------------------------------------


def test_the_schema_subcommand_prints_the_committed_schema(tmp_path: Path) -> None:
    out, _ = run("schema")
    assert out == document_json_schema_text()
    target = tmp_path / "schema.json"
    run("schema", "-o", str(target))
    assert target.read_text(encoding="utf-8") == out


def test_the_app_serves_the_schema_to_anyone(world: World) -> None:
    from django.test import Client

    for client in (Client(), client_for(world.client_manager)):
        response = client.get("/schemas/engagement.schema.json")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/schema+json"
        assert response.content.decode("utf-8") == document_json_schema_text()


def test_stored_data_the_format_cannot_hold_is_named_not_crashed_on(world: World) -> None:
    Engagement.objects.filter(pk=world.engagement.pk).update(name="Acme\x07support")
    world.engagement.refresh_from_db()
    with pytest.raises(PactboardError) as caught:
        engagement_document_export(engagement=world.engagement)
    assert caught.value.message.startswith("Acme\x07support cannot be written as a document")
    assert [d.location for d in caught.value.details] == ["engagement.name"]


def test_validate_warns_of_a_catalogue_kpi_without_a_source(tmp_path: Path) -> None:
    out, err = run("validate", write(tmp_path, ACME.replace("    source:\n      kind: dataset\n", "")))
    assert "valid" in out
    assert err.strip() == (
        "warning: kpis[1].source.kind: not given, so this catalogue KPI's values are entered by hand (manual); "
        "write kind: dataset to compute them from the contacts dataset by the catalogue's formula, or kind: manual "
        "to keep entering them"
    )


def test_a_new_engagements_provider_must_be_a_provider_organisation(world: World) -> None:
    # Globex is a client organisation: a new engagement cannot name it as its provider. The objective's
    # owner, carla, is a member of Acme Retail, the actor's organisation: only the provider is refused.
    text = ACME.replace("name: Acme support", "name: Acme new line").replace(
        "provider: Helpline BPO", "provider: Globex"
    )
    with pytest.raises(PactboardError) as caught:
        engagement_document_import(text=text, actor=world.client_manager)
    assert [str(d) for d in caught.value.details] == ["engagement.provider: Globex is not a provider organisation"]
    assert codes(caught.value) == ["not_a_provider"]  # new word: an organisation of the other kind
