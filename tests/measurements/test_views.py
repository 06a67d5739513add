"""Measurement pages: values and revisions, imports with progress and errors, datasets, records, scorecard."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pactboard.core.periods import Period
from pactboard.measurements import services
from pactboard.measurements.models import Dataset, DatasetVersion, ImportBatch, Measurement
from tests.conftest import World, client_for
from tests.measurements.test_datasets import OCTOBER, _contact, _write

pytestmark = pytest.mark.django_db
OCT = Period.parse("2026-10")
HTMX = {"HTTP_HX_REQUEST": "true"}


def _record(world: World, code: str, label: str, value: str, reason: str = "") -> None:
    services.measurement_record(
        actor=world.provider_manager,
        engagement=world.engagement,
        kpi_code=code,
        period=Period.parse(label),
        value=Decimal(value),
        reason=reason,
    )


def _values_file(rows: list[tuple[str, str, str]], name: str = "values.csv") -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["kpi", "period", "value", "note"])
    writer.writerows([(*r, "") for r in rows])
    return SimpleUploadedFile(name, buffer.getvalue().encode(), content_type="text/csv")


def _contacts(world: World) -> Dataset:
    return services.dataset_declare(
        actor=world.client_manager, engagement=world.engagement, name="contacts", standard="contacts"
    )


def _upload_contacts(world: World, dataset: Dataset, path: Path) -> ImportBatch:
    batch = services.import_batch_start(
        actor=world.provider_manager,
        engagement=world.engagement,
        kind="records",
        source=path,
        file_name=path.name,
        dataset=dataset,
    )
    return services.dataset_upload_run(batch_id=batch.pk)


# --- tenancy: every page is a 404 for another tenant --------------------------------------------------


def _every_url(world: World, tmp_path: Path) -> list[tuple[str, str]]:
    _record(world, "qa_score", "2026-10", "91")
    dataset = _contacts(world)
    batch = _upload_contacts(world, dataset, _write(tmp_path / "oct.csv", OCTOBER))
    computed = Measurement.objects.get(kpi_code="first_contact_resolution", period_start="2026-10-01")
    pk = world.engagement.pk
    return [
        ("get", reverse("measurements:data", args=[pk])),
        ("get", reverse("measurements:kpi_values", args=[pk, "qa_score"])),
        ("post", reverse("measurements:kpi_values", args=[pk, "qa_score"])),
        ("get", reverse("measurements:import_values", args=[pk])),
        ("post", reverse("measurements:import_values", args=[pk])),
        ("get", reverse("measurements:import_batch", args=[pk, batch.pk])),
        ("get", reverse("measurements:import_file", args=[pk, batch.pk])),
        ("get", reverse("measurements:datasets", args=[pk])),
        ("post", reverse("measurements:datasets", args=[pk])),
        ("get", reverse("measurements:dataset_upload", args=[pk, dataset.pk])),
        ("post", reverse("measurements:dataset_upload", args=[pk, dataset.pk])),
        ("get", reverse("measurements:records", args=[pk, computed.pk])),
        ("get", reverse("measurements:scorecard", args=[pk]) + "?period=2026-10"),
    ]


def test_outsider_gets_404_on_every_page(world: World, agreed, tmp_path):
    urls = _every_url(world, tmp_path)
    outsider = client_for(world.outsider)
    for method, url in urls:
        response = getattr(outsider, method)(url, {"period": "2026-10", "value": "1"} if method == "post" else None)
        assert response.status_code == 404, (method, url)
    # The same pages open for both parties.
    for member in (world.client_manager, world.provider_manager):
        c = client_for(member)
        for method, url in urls:
            if method == "get":
                assert c.get(url).status_code == 200, (member, url)
    assert Measurement.objects.filter(kpi_code="qa_score").count() == 1


def test_ids_of_another_engagement_are_404_under_this_one(world: World, agreed, tmp_path):
    """A batch or value id of engagement A under engagement B's URL is not found, even for a party of both."""
    urls = _every_url(world, tmp_path)
    c = client_for(world.client_manager)
    other = world.other_engagement.pk
    for method, url in urls:
        if method == "get" and ("/imports/" in url or ("/values/" in url and url.endswith(".csv"))):
            moved = url.replace(f"/engagements/{world.engagement.pk}/", f"/engagements/{other}/")
            assert c.get(moved).status_code == 404, moved


def test_unknown_kpi_is_404(world: World, agreed):
    url = reverse("measurements:kpi_values", args=[world.engagement.pk, "nope"])
    assert client_for(world.client_manager).get(url).status_code == 404


# --- one KPI's values ---------------------------------------------------------------------------


def test_values_page_records_a_value_then_a_correction_needs_a_reason(world: World, agreed):
    c = client_for(world.provider_manager)
    url = reverse("measurements:kpi_values", args=[world.engagement.pk, "escalations"])
    page = c.get(url)
    assert page.status_code == 200
    assert b"<html" in page.content  # a full page when not HTMX
    assert b"Enter a value by hand" in page.content

    response = c.post(url, {"period": "2026-10", "value": "12", "note": "from the incident log"})
    assert response.status_code == 302
    assert Measurement.objects.get(kpi_code="escalations").value == Decimal("12")

    refused = c.post(url, {"period": "2026-10", "value": "9"})
    assert refused.status_code == 422
    errors = refused.context["form"].errors
    assert "reason" in errors, errors
    assert "a correction needs a reason" in errors["reason"][0]
    assert Measurement.objects.get(kpi_code="escalations").value == Decimal("12")

    c.post(url, {"period": "2026-10", "value": "9", "reason": "Three tickets were one incident"})
    page = c.get(url).content.decode()
    assert "Three tickets were one incident" in page
    assert "<s>12</s>" in page  # the replaced value is kept, struck through
    assert "from the incident log" in page
    assert "Pedro (Helpline BPO)" in page


def test_values_fragment_for_htmx_posts_in_place(world: World, agreed):
    c = client_for(world.provider_manager)
    url = reverse("measurements:kpi_values", args=[world.engagement.pk, "qa_score"])
    fragment = c.get(url, **HTMX)
    assert fragment.status_code == 200
    assert b"<html" not in fragment.content
    assert b'id="kpi-values-qa_score"' in fragment.content

    bad = c.post(url, {"period": "2026-W40", "value": "140"}, **HTMX)
    assert bad.status_code == 422
    assert b"<html" not in bad.content
    errors = bad.context["form"].errors
    assert "'2026-W40' is a week label but a month is expected" in errors["period"][0]

    ok = c.post(url, {"period": "2026-10", "value": "91.5"}, **HTMX)
    assert ok.status_code == 200
    assert ok["HX-Trigger"] == "measurement-recorded"
    assert b"QA score 2026-10: 91.5 recorded." in ok.content
    assert b"<html" not in ok.content

    out_of_range = c.post(url, {"period": "2026-11", "value": "140"}, **HTMX)
    assert out_of_range.status_code == 422
    assert "above the highest value qa_score allows (100)" in out_of_range.context["form"].errors["value"][0]

    # "1e309" is past the largest double: a number input sent nothing and the answer was "This field is
    # required". The value field is a text input and the message says what is wrong.
    assert 'type="number"' not in fragment.content.decode()
    huge = c.post(url, {"period": "2026-11", "value": "1e309"}, **HTMX)
    assert huge.status_code == 422
    [message] = huge.context["form"].errors["value"]
    assert message.startswith("“1e309” is out of range: a value may have at most 18 digits before the decimal point")
    infinite = c.post(url, {"period": "2026-11", "value": "inf"}, **HTMX)
    assert infinite.context["form"].errors["value"] == ["“inf” is not a finite number: type a number such as 12.5."]


def test_viewer_sees_values_without_the_form_and_cannot_post(world: World, agreed):
    _record(world, "qa_score", "2026-10", "91")
    c = client_for(world.client_viewer)
    url = reverse("measurements:kpi_values", args=[world.engagement.pk, "qa_score"])
    page = c.get(url)
    assert page.status_code == 200
    assert b"Enter a value by hand" not in page.content
    assert b"91" in page.content
    assert c.post(url, {"period": "2026-11", "value": "90"}).status_code == 403
    assert Measurement.objects.count() == 1


def test_values_page_query_count_does_not_grow_with_values(world: World, agreed, django_assert_max_num_queries):
    c = client_for(world.client_manager)
    url = reverse("measurements:kpi_values", args=[world.engagement.pk, "qa_score"])
    _record(world, "qa_score", "2026-01", "80")
    with CaptureQueriesContext(connection) as few:
        assert c.get(url).status_code == 200
    for month in range(2, 11):  # to 2026-10: every month begun (later ones are refused)
        _record(world, "qa_score", f"2026-{month:02d}", "85")
        _record(world, "qa_score", f"2026-{month:02d}", "86", reason="re-scored")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert c.get(url).status_code == 200


# --- imports ---------------------------------------------------------------------------------------


def _example(html: str) -> list[str]:
    found = re.search(r'<pre class="example"[^>]*>(.*?)</pre>', html, re.S)
    assert found is not None
    return found.group(1).splitlines()


def test_import_example_names_the_engagements_own_kpis(world: World, agreed):
    c = client_for(world.provider_manager)
    for url in (
        reverse("measurements:import_values", args=[world.engagement.pk]),
        reverse("measurements:data", args=[world.engagement.pk]),
    ):
        lines = _example(c.get(url).content.decode())
        assert lines[0] == "kpi,period,value,note"
        # The agreed KPIs that take values from files or by hand (qa_score: import; escalations: manual),
        # not KPIs computed from a dataset and not made-up codes the engagement does not have.
        codes = [line.split(",")[0] for line in lines[1:]]
        assert codes == ["escalations", "qa_score"], url
        # Each with its agreed target as the example value (escalations 10, qa_score 90).
        assert [line.split(",")[2] for line in lines[1:]] == ["10", "90"]
        assert all(re.fullmatch(r"\d{4}-\d{2}", line.split(",")[1]) for line in lines[1:])
        assert "accuracy_rate" not in "".join(lines)


def test_import_example_without_agreed_kpis_says_where_codes_come_from(world: World):
    html = (
        client_for(world.provider_manager)
        .get(reverse("measurements:import_values", args=[world.engagement.pk]))
        .content.decode()
    )
    assert "accuracy_rate" not in html
    assert "No KPI set is agreed yet" in html


def test_import_good_file_through_the_page(world: World, agreed):
    c = client_for(world.provider_manager)
    url = reverse("measurements:import_values", args=[world.engagement.pk])
    rows = [("qa_score", f"2026-{m:02d}", "88") for m in range(1, 11)]
    response = c.post(url, {"file": _values_file(rows)})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("measurements:import_batch", args=[world.engagement.pk, batch.pk])
    assert batch.status == "done"  # the test task backend runs the task at once
    assert Measurement.objects.count() == 10
    page = c.get(response["Location"]).content.decode()
    assert "Loaded" in page
    assert "10 new values" in page
    assert 'hx-trigger="every 1s"' not in page  # finished: no more polling
    assert batch.file_sha256 in page


def test_import_bad_file_shows_every_error_by_row_and_column_and_writes_nothing(world: World, agreed):
    c = client_for(world.provider_manager)
    rows = [("qa_score", f"2026-{m:02d}", "88") for m in range(1, 13)]
    rows[6] = ("qa_score", "2026-07", "eighty")
    rows[9] = ("qa_scor", "2026-10", "88")
    response = c.post(reverse("measurements:import_values", args=[world.engagement.pk]), {"file": _values_file(rows)})
    page = c.get(response["Location"])
    assert page.status_code == 200
    errors = page.context["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [("8", "value"), ("11", "kpi")]
    html = page.content.decode()
    assert "Nothing was written." in html
    assert "Refused: nothing was written" in html
    assert not Measurement.objects.exists()
    # Polled by HTMX, the errors come along out of band.
    fragment = c.get(response["Location"], **HTMX).content.decode()
    assert 'hx-swap-oob="true"' in fragment
    assert "<html" not in fragment


def test_import_form_refuses_a_file_of_the_wrong_kind(world: World, agreed):
    c = client_for(world.provider_manager)
    upload = SimpleUploadedFile("values.txt", b"kpi,period,value\n", content_type="text/plain")
    response = c.post(reverse("measurements:import_values", args=[world.engagement.pk]), {"file": upload})
    assert response.status_code == 422
    assert "is not a CSV, XLSX file" in response.context["form"].errors["file"][0]
    assert not ImportBatch.objects.exists()


def test_pending_batch_page_polls_every_second_with_an_accessible_progress_bar(world: World, agreed, tmp_path):
    path = tmp_path / "v.csv"
    path.write_text("kpi,period,value\nqa_score,2026-10,90\n", encoding="utf-8")
    batch = services.import_batch_start(
        actor=world.provider_manager, engagement=world.engagement, kind="values", source=path, file_name="v.csv"
    )
    c = client_for(world.client_manager)
    url = reverse("measurements:import_batch", args=[world.engagement.pk, batch.pk])
    html = c.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert 'aria-busy="true"' in html
    assert "<progress" in html
    assert 'role="status"' in html
    assert "Waiting to start" in html
    services.values_import_run(batch_id=batch.pk)
    fragment = c.get(url, **HTMX).content.decode()
    assert 'hx-trigger="every 1s"' not in fragment
    assert "All 1 rows checked." in fragment


def test_stored_import_file_downloads_as_received(world: World, agreed):
    c = client_for(world.provider_manager)
    content = b"kpi,period,value,note\r\nqa_score,2026-10,88,\r\n"
    c.post(
        reverse("measurements:import_values", args=[world.engagement.pk]),
        {"file": SimpleUploadedFile("october.csv", content)},
    )
    batch = ImportBatch.objects.get()
    response = client_for(world.client_viewer).get(
        reverse("measurements:import_file", args=[world.engagement.pk, batch.pk])
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert 'filename="october.csv"' in response["Content-Disposition"]


# --- datasets and the records behind a value ----------------------------------------------------------


def test_declare_a_standard_dataset_and_upload_records_through_the_pages(world: World, agreed, tmp_path):
    manager = client_for(world.client_manager)
    url = reverse("measurements:datasets", args=[world.engagement.pk])
    response = manager.post(url, {"name": "contacts", "standard": "contacts"})
    assert response.status_code == 302
    dataset = Dataset.objects.get()
    assert dataset.time_column == "opened_at"

    provider = client_for(world.provider_manager)
    path = _write(tmp_path / "october.csv", OCTOBER)
    upload = SimpleUploadedFile("october.csv", path.read_bytes(), content_type="text/csv")
    response = provider.post(
        reverse("measurements:dataset_upload", args=[world.engagement.pk, dataset.pk]), {"file": upload}
    )
    assert response.status_code == 302
    assert "Loaded" in provider.get(response["Location"]).content.decode()
    version = DatasetVersion.objects.get()
    page = manager.get(url).content.decode()
    for text in (version.parquet_sha256, version.upload_sha256, "2026-10-01", "Pedro (Helpline BPO)", ">v1<"):
        assert text in page
    assert Measurement.objects.get(kpi_code="first_contact_resolution", period_start="2026-10-01").value == 75


def test_bad_records_file_lists_the_row_and_column(world: World, agreed, tmp_path):
    dataset = _contacts(world)
    path = _write(tmp_path / "bad.csv", [*OCTOBER, _contact(7, "yesterday", fcr="true")])
    c = client_for(world.provider_manager)
    response = c.post(
        reverse("measurements:dataset_upload", args=[world.engagement.pk, dataset.pk]),
        {"file": SimpleUploadedFile("bad.csv", path.read_bytes())},
    )
    page = c.get(response["Location"])
    # "yesterday" is in both timestamps of row 8: each cell is reported.
    assert [(e["row"], e["column"]) for e in page.context["errors"]] == [("8", "opened_at"), ("8", "answered_at")]
    assert "Nothing was written." in page.content.decode()
    assert not DatasetVersion.objects.exists()


def test_custom_dataset_columns_are_checked_and_only_managers_declare(world: World, agreed):
    url = reverse("measurements:datasets", args=[world.engagement.pk])
    manager = client_for(world.client_manager)
    bad = manager.post(
        url, {"name": "tickets", "columns": "ticket_id text required\nopened_at when", "time_column": "x"}
    )
    assert bad.status_code == 422
    assert "Line 2: unknown type 'when'" in bad.context["declare_form"].errors["columns"][0]
    ok = manager.post(
        url,
        {
            "name": "tickets",
            "columns": "ticket_id text required\nopened_at timestamp required",
            "time_column": "opened_at",
        },
    )
    assert ok.status_code == 302
    assert Dataset.objects.get().columns[0] == {"name": "ticket_id", "type": "text", "nullable": False}
    assert client_for(world.client_viewer).post(url, {"name": "x", "standard": "contacts"}).status_code == 403


def test_records_behind_a_computed_value_download_for_both_parties(world: World, agreed, tmp_path):
    _upload_contacts(world, _contacts(world), _write(tmp_path / "oct.csv", OCTOBER))
    fcr = Measurement.objects.get(kpi_code="first_contact_resolution", period_start="2026-10-01")
    url = reverse("measurements:records", args=[world.engagement.pk, fcr.pk])
    values_page = client_for(world.client_manager).get(
        reverse("measurements:kpi_values", args=[world.engagement.pk, "first_contact_resolution"])
    )
    assert url in values_page.content.decode()
    for member in (world.client_viewer, world.provider_manager):
        response = client_for(member).get(url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        # FCR reads the handled (answered) October contacts: c1-c4 (c5 was abandoned, c6 is November in Berlin).
        assert sorted(r["contact_id"] for r in rows) == ["c1", "c2", "c3", "c4"]
    _record(world, "qa_score", "2026-10", "91")
    manual = Measurement.objects.get(kpi_code="qa_score")
    assert (
        client_for(world.client_manager)
        .get(reverse("measurements:records", args=[world.engagement.pk, manual.pk]))
        .status_code
        == 404
    )


def test_datasets_page_query_count_does_not_grow_with_versions(
    world: World, agreed, tmp_path, django_assert_max_num_queries
):
    dataset = _contacts(world)
    c = client_for(world.client_manager)
    url = reverse("measurements:datasets", args=[world.engagement.pk])
    _upload_contacts(world, dataset, _write(tmp_path / "v1.csv", OCTOBER[:1]))
    with CaptureQueriesContext(connection) as few:
        assert c.get(url).status_code == 200
    for i in range(2, 6):
        _upload_contacts(world, dataset, _write(tmp_path / f"v{i}.csv", [_contact(i, f"2026-10-0{i}T08:00:00+02:00")]))
    assert DatasetVersion.objects.count() == 5
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert c.get(url).status_code == 200


# --- the scorecard -------------------------------------------------------------------------------------


def _scorecard_cells(html: str) -> dict[str, dict[str, str]]:
    """Each scorecard row's numeric cells by their data-label, tags stripped."""
    rows: dict[str, dict[str, str]] = {}
    for code, body in re.findall(r'<tr data-kpi="(\w+)">(.*?)</tr>', html, re.S):
        rows[code] = {
            label: re.sub(r"<[^>]+>", "", cell).strip()
            for label, cell in re.findall(r'<td class="num" data-label="([^"]+)">(.*?)</td>', body, re.S)
        }
    return rows


def test_scorecard_page_shows_status_in_words_and_symbols(world: World, agreed):
    _record(world, "qa_score", "2026-10", "92")
    _record(world, "escalations", "2026-10", "12")
    c = client_for(world.provider_manager)
    url = reverse("measurements:scorecard", args=[world.engagement.pk])
    response = c.get(url, {"period": "2026-10"})
    assert response.status_code == 200
    rows = {r["code"]: r for r in response.context["rows"]}
    # qa_score 92 >= target 90 (higher is better) -> met; escalations 12 is above target 10 but within amber 15.
    assert (rows["qa_score"]["status_text"], rows["qa_score"]["status_symbol"]) == ("Met", "✓")
    assert rows["escalations"]["status_text"] == "At risk"
    assert rows["csat"]["status_text"] == "No data"
    html = response.content.decode()
    assert "Met</span>" in html
    assert "At risk</span>" in html
    # Weights are 1 each; coverage is the weight with data: 2 of 4 KPIs -> 50 %.
    assert re.search(r'data-testid="coverage">50 %<', html)
    # Attainment: qa 92/90 = 1.0222 -> 102.2 %; escalations (lower is better) 10/12 = 0.8333 -> 83.3 %.
    # Values and targets carry their unit (qa_score is in %, escalations a count): docs/formatting.md.
    cells = _scorecard_cells(html)
    assert cells["qa_score"] == {
        "Value": "92 %",
        "Target in force": "90 %",
        "Amber / stretch": "85 % / —",  # no stretch level agreed
        "Attainment": "102.2 %",
        "Weight": "1",
    }
    assert (cells["escalations"]["Value"], cells["escalations"]["Attainment"]) == ("12", "83.3 %")
    fragment = c.get(url, {"period": "2026-09"}, **HTMX)
    assert b"<html" not in fragment.content
    assert b'id="scorecard"' in fragment.content


def test_scorecard_page_refuses_a_bad_period_and_defaults_to_last_month(world: World, agreed):
    c = client_for(world.client_manager)
    url = reverse("measurements:scorecard", args=[world.engagement.pk])
    bad = c.get(url, {"period": "2026-13"})
    assert bad.status_code == 422
    assert "the month must be 01 to 12" in bad.context["form"].errors["period"][0]
    default = c.get(url)
    assert default.status_code == 200
    assert default.context["period"].kind == "month"


def test_scorecard_query_count_is_fixed(world: World, agreed, django_assert_max_num_queries):
    c = client_for(world.client_manager)
    url = reverse("measurements:scorecard", args=[world.engagement.pk]) + "?period=2026-10"
    with CaptureQueriesContext(connection) as empty:
        c.get(url)
    for code, value in (("qa_score", "92"), ("escalations", "12")):
        _record(world, code, "2026-10", value)
    with django_assert_max_num_queries(len(empty.captured_queries)):
        assert c.get(url).status_code == 200


def test_data_page_lists_the_agreed_kpis_with_links(world: World, agreed):
    response = client_for(world.provider_manager).get(reverse("measurements:data", args=[world.engagement.pk]))
    html = response.content.decode()
    for code in ("first_contact_resolution", "csat", "qa_score", "escalations"):
        assert reverse("measurements:kpi_values", args=[world.engagement.pk, code]) in html
    assert "Import values from a file" in html
    detail = client_for(world.provider_manager).get(reverse("engagements:detail", args=[world.engagement.pk]))
    assert reverse("measurements:data", args=[world.engagement.pk]) in detail.content.decode()
