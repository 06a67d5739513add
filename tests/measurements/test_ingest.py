"""Dataset ingest: whole-file validation, all-or-nothing storage, located errors (docs/data-in.md)."""

# The SQL below only reads files the tests wrote themselves.
# ruff: noqa: S608

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pactboard.core.errors import PactboardError
from pactboard.formulas.schema import CONTACTS, Column, DatasetSchema
from pactboard.measurements.ingest import IngestResult, dataset_file_ingest, file_sha256

HEADER = list(CONTACTS.column_names)


def contact(i: int, **overrides: str) -> dict[str, str]:
    """One valid contact record as CSV text; every fifth one abandoned (no answer, no resolution)."""
    abandoned = i % 5 == 4
    row = {
        "contact_id": f"C{i:06d}",
        "opened_at": f"2026-01-{1 + i % 28:02d}T{i % 24:02d}:15:00Z",
        "answered_at": "" if abandoned else f"2026-01-{1 + i % 28:02d}T{i % 24:02d}:16:30+00:00",
        "resolved_at": "" if abandoned else f"2026-01-{1 + i % 28:02d}T{i % 24:02d}:45:00+0000",
        "channel": ("phone", "chat", "email")[i % 3],
        "first_contact_resolved": "" if abandoned else ("true", "false")[i % 2],
        "abandoned": "yes" if abandoned else "no",
        "csat": str(1 + i % 5) if i % 4 == 0 else "",
        "nps": str(i % 11) if i % 6 == 0 else "",
        "handle_seconds": "" if abandoned else f"{120 + i % 300}.5",
        "cost": f"{2 + i % 7}.25",
    }
    row.update(overrides)
    return row


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None, **kwargs: str) -> Path:
    with path.open("w", newline="", encoding=kwargs.pop("encoding", "utf-8")) as fh:
        writer = csv.DictWriter(fh, fieldnames=header or HEADER, lineterminator="\n", **kwargs)  # type: ignore[arg-type]
        writer.writeheader()
        writer.writerows(rows)
    return path


def ingest(source: Path, store: Path, **kwargs: object) -> IngestResult:
    return dataset_file_ingest(source=source, schema=CONTACTS, dest_dir=store, **kwargs)  # type: ignore[arg-type]


def refused(source: Path, store: Path, **kwargs: object) -> PactboardError:
    with pytest.raises(PactboardError) as info:
        ingest(source, store, **kwargs)
    assert stored_files(store) == [], "a refused file must leave nothing behind"
    return info.value


def stored_files(store: Path) -> list[Path]:
    return sorted(store.rglob("*")) if store.exists() else []


def locations(error: PactboardError) -> list[str | None]:
    return [d.location for d in error.details]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


# --- good files --------------------------------------------------------------------------


def test_good_csv_is_stored_typed_under_its_content_hash(tmp_path: Path, store: Path) -> None:
    source = write_csv(tmp_path / "contacts.csv", [contact(i) for i in range(50)])
    calls: list[tuple[int, int | None]] = []

    result = ingest(source, store, progress=lambda done, total: calls.append((done, total)))

    assert result.row_count == 50
    assert result.path == store / f"{result.sha256}.parquet"
    assert result.sha256 == file_sha256(result.path)
    assert result.source_sha256 == file_sha256(source)
    assert result.columns == CONTACTS.column_names
    assert result.period_min == datetime(2026, 1, 1, 0, 15, tzinfo=UTC)
    assert result.period_max == datetime(2026, 1, 28, 3, 15, tzinfo=UTC)  # i = 27: day 28, hour 3
    assert stored_files(store) == [result.path]  # no temp files left
    assert calls[0][0] == 0
    assert calls[-1] == (50, 50)

    con = duckdb.connect()
    types = {row[0]: row[1] for row in con.execute(f"DESCRIBE FROM read_parquet('{result.path}')").fetchall()}
    assert types == {
        "contact_id": "VARCHAR",
        "opened_at": "TIMESTAMP WITH TIME ZONE",
        "answered_at": "TIMESTAMP WITH TIME ZONE",
        "resolved_at": "TIMESTAMP WITH TIME ZONE",
        "channel": "VARCHAR",
        "first_contact_resolved": "BOOLEAN",
        "abandoned": "BOOLEAN",
        "csat": "BIGINT",
        "nps": "BIGINT",
        "handle_seconds": "DOUBLE",
        "cost": "DECIMAL(18,6)",
    }
    con.execute("SET TimeZone = 'UTC'")
    first = con.execute(f"SELECT * FROM read_parquet('{result.path}') WHERE contact_id = 'C000004'").fetchone()
    assert first is not None
    assert first[1:4] == (datetime(2026, 1, 5, 4, 15, tzinfo=UTC), None, None)
    assert first[4:] == ("chat", None, True, 5, None, None, Decimal("6.25"))  # csat 1 + 4 % 5


def test_offsets_are_applied_and_stored_as_utc(tmp_path: Path, store: Path) -> None:
    rows = [contact(0, opened_at="2026-03-01T09:00:00+02:00"), contact(1, opened_at="2026-03-01 02:30:00-0530")]
    result = ingest(write_csv(tmp_path / "c.csv", rows), store)
    assert result.period_min == datetime(2026, 3, 1, 7, 0, tzinfo=UTC)
    assert result.period_max == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def test_good_parquet_and_jsonl_store_the_same_data_as_csv(tmp_path: Path, store: Path) -> None:
    rows = [contact(i) for i in range(20)]
    from_csv = ingest(write_csv(tmp_path / "c.csv", rows), store)

    with (tmp_path / "c.jsonl").open("w", encoding="utf-8") as fh:
        for r in rows:
            record: dict[str, object] = {k: (v if v != "" else None) for k, v in r.items()}
            record["csat"] = int(r["csat"]) if r["csat"] else None  # JSON numbers and booleans are fine too
            record["abandoned"] = r["abandoned"] == "yes"
            fh.write(json.dumps(record) + "\n")
        fh.write("\n")  # a trailing blank line is ignored
    from_jsonl = ingest(tmp_path / "c.jsonl", store)

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    table = con.sql(f"SELECT * FROM read_parquet('{from_csv.path}')").to_arrow_table()
    pq.write_table(table, tmp_path / "c.parquet")
    from_parquet = ingest(tmp_path / "c.parquet", store)

    assert from_jsonl.row_count == from_parquet.row_count == 20
    for other in (from_jsonl, from_parquet):
        # Same records and types; the bytes may differ with the writer's internal layout.
        for a, b in ((from_csv.path, other.path), (other.path, from_csv.path)):
            assert con.execute(f"FROM read_parquet('{a}') EXCEPT ALL FROM read_parquet('{b}')").fetchall() == []
        assert (
            con.execute(f"DESCRIBE FROM read_parquet('{other.path}')").fetchall()
            == con.execute(f"DESCRIBE FROM read_parquet('{from_csv.path}')").fetchall()
        )


def test_identical_content_twice_gives_the_same_path(tmp_path: Path, store: Path) -> None:
    rows = [contact(i) for i in range(30)]
    first = ingest(write_csv(tmp_path / "a.csv", rows), store)
    second = ingest(write_csv(tmp_path / "b.csv", rows), store)
    assert second.path == first.path
    assert (first.reused, second.reused) == (False, True)
    assert stored_files(store) == [first.path]


def test_spreadsheet_style_integers_and_extra_zero_decimals_are_accepted(tmp_path: Path, store: Path) -> None:
    rows = [contact(0, csat="4.0", cost="2.50000000", abandoned="TRUE", first_contact_resolved="1")]
    result = ingest(write_csv(tmp_path / "c.csv", rows), store)
    con = duckdb.connect()
    got = con.execute(f"SELECT csat, cost, abandoned FROM read_parquet('{result.path}')").fetchone()
    assert got == (4, Decimal("2.5"), True)


# --- refusals ----------------------------------------------------------------------------


def test_one_bad_row_in_ten_thousand_writes_nothing_and_names_that_cell(tmp_path: Path, store: Path) -> None:
    rows = [contact(i) for i in range(10_000)]
    rows[7_345] = contact(7_345, csat="excellent")
    error = refused(write_csv(tmp_path / "c.csv", rows), store)
    # Header is row 1, so the record at index 7345 is row 7347.
    assert locations(error) == ["row 7347, column csat"]
    assert "'excellent' is not a whole number" in error.details[0].message
    assert error.details[0].code == "not_integer"


def test_missing_and_unknown_columns_are_named(tmp_path: Path, store: Path) -> None:
    header = [h for h in HEADER if h != "answered_at"] + ["Channel_Name"]
    rows = [{**{k: v for k, v in contact(0).items() if k != "answered_at"}, "Channel_Name": "x"}]
    error = refused(write_csv(tmp_path / "c.csv", rows, header=header), store)
    messages = [d.message for d in error.details]
    assert any(m.startswith("missing column 'answered_at'") for m in messages)
    assert any(m.startswith("unknown column 'Channel_Name'") for m in messages)
    assert set(locations(error)) == {"row 1"}


def test_a_differently_cased_column_gets_a_hint(tmp_path: Path, store: Path) -> None:
    header = ["Contact_ID" if h == "contact_id" else h for h in HEADER]
    rows = [{("Contact_ID" if k == "contact_id" else k): v for k, v in contact(0).items()}]
    error = refused(write_csv(tmp_path / "c.csv", rows, header=header), store)
    assert any("did you mean 'contact_id'?" in d.message for d in error.details)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-03 10:00:00", "has no time zone: add a UTC offset such as +00:00 (e.g. 2026-01-03T10:00:00+00:00)"),
        ("2026-01-03T10:00:00", "has no time zone"),
        ("2026-01-03", "has no time zone"),
        ("03/01/2026 10:00", "is not a timestamp: write it as ISO 8601 with an offset"),
        ("2026-02-30T10:00:00Z", "is not a timestamp"),
    ],
)
def test_bad_timestamps_are_refused_with_the_fix(tmp_path: Path, store: Path, value: str, expected: str) -> None:
    rows = [contact(0), contact(1, answered_at=value)]
    error = refused(write_csv(tmp_path / "c.csv", rows), store)
    assert locations(error) == ["row 3, column answered_at"]
    assert expected in error.details[0].message
    assert repr(value) in error.details[0].message


def test_bad_boolean(tmp_path: Path, store: Path) -> None:
    error = refused(write_csv(tmp_path / "c.csv", [contact(0, abandoned="maybe")]), store)
    assert locations(error) == ["row 2, column abandoned"]
    assert error.details[0].message.startswith("'maybe' is not a yes/no value: write true or false")


def test_empty_value_in_a_required_column(tmp_path: Path, store: Path) -> None:
    error = refused(write_csv(tmp_path / "c.csv", [contact(0), contact(1, channel="")]), store)
    assert locations(error) == ["row 3, column channel"]
    assert error.details[0].code == "missing_value"
    assert "needs a value in every row" in error.details[0].message


@pytest.mark.parametrize(
    ("column", "value", "code", "fragment"),
    [
        ("csat", "4.5", "not_integer", "is not a whole number"),
        ("cost", "12,50", "invalid_number", "use a point as the decimal separator"),
        ("cost", "1,234.50", "invalid_number", "no thousands separators"),
        ("cost", "2.1234567", "too_precise", "more than 6 decimal places"),
        ("handle_seconds", "nan", "invalid_number", "is not a finite number"),
    ],
)
def test_bad_numbers(tmp_path: Path, store: Path, column: str, value: str, code: str, fragment: str) -> None:
    error = refused(write_csv(tmp_path / "c.csv", [contact(0, **{column: value})]), store)
    assert locations(error) == [f"row 2, column {column}"]
    assert error.details[0].code == code
    assert fragment in error.details[0].message


def test_every_bad_cell_is_reported_in_row_order(tmp_path: Path, store: Path) -> None:
    rows = [contact(i) for i in range(10)]
    rows[2] = contact(2, csat="x", cost="y")
    rows[6] = contact(6, opened_at="")
    error = refused(write_csv(tmp_path / "c.csv", rows), store)
    assert locations(error) == ["row 4, column csat", "row 4, column cost", "row 8, column opened_at"]
    assert "3 invalid value(s)" in error.message


def test_max_errors_caps_the_details(tmp_path: Path, store: Path) -> None:
    rows = [contact(i, abandoned="?") for i in range(1_244)]
    error = refused(write_csv(tmp_path / "c.csv", rows), store, max_errors=10)
    assert len(error.details) == 11
    assert locations(error)[:2] == ["row 2, column abandoned", "row 3, column abandoned"]
    assert error.details[-1].message == "... and 1234 more errors"
    assert error.details[-1].location is None


def test_latin1_file_is_refused_with_the_row_and_the_fix(tmp_path: Path, store: Path) -> None:
    rows = [contact(0), contact(1, channel="téléphone")]
    error = refused(write_csv(tmp_path / "c.csv", rows, encoding="latin-1"), store)
    assert error.details[0].code == "wrong_encoding"
    assert error.details[0].location == "row 3"
    assert "not UTF-8" in error.message
    assert "0xE9" in error.message
    assert "CSV UTF-8" in error.message


def test_semicolon_file_is_refused_with_the_fix(tmp_path: Path, store: Path) -> None:
    error = refused(write_csv(tmp_path / "c.csv", [contact(0)], delimiter=";"), store)
    assert error.details[0].code == "wrong_delimiter"
    assert "semicolons" in error.message
    assert "Comma delimited" in error.message


def test_a_row_with_too_many_values_is_named(tmp_path: Path, store: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [contact(i) for i in range(3)])
    with path.open("a", encoding="utf-8") as fh:
        fh.write(",".join(contact(3).values()) + ",extra\n")
    error = refused(path, store)
    assert locations(error) == ["row 5"]
    assert error.details[0].code == "malformed_row"
    assert error.details[0].message.startswith("the row has 12 values but the header names 11 columns")


def test_blank_lines_are_counted_in_row_numbers(tmp_path: Path, store: Path) -> None:
    path = tmp_path / "c.csv"
    lines = [",".join(HEADER), ",".join(contact(0).values()), "", ",".join(contact(1, csat="x").values())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    error = refused(path, store)
    assert locations(error) == ["row 4, column csat"]  # the line a text editor shows


def test_jsonl_errors_are_located_by_line(tmp_path: Path, store: Path) -> None:
    good = {k: (v or None) for k, v in contact(0).items()}
    lines = [
        json.dumps(good),
        "",
        json.dumps({**good, "csat": "x"}),
        "not json",
        json.dumps({**good, "colour": "red"}),
    ]
    (tmp_path / "c.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    error = refused(tmp_path / "c.jsonl", store)
    assert locations(error) == ["row 3, column csat", "row 4", "row 5"]
    assert error.details[1].code == "invalid_json"
    assert "'colour'" in error.details[2].message


def test_parquet_with_naive_timestamps_is_refused_per_column(tmp_path: Path, store: Path) -> None:
    table = pa.table(
        {
            name: pa.array([None], pa.string())
            for name in HEADER
            if name not in ("opened_at", "abandoned", "csat", "contact_id", "channel")
        }
        | {
            "contact_id": pa.array(["C1"]),
            "channel": pa.array(["phone"]),
            "opened_at": pa.array([datetime(2026, 1, 1, 10)], pa.timestamp("us")),
            "abandoned": pa.array([False]),
            "csat": pa.array([True]),
        }
    )
    pq.write_table(table, tmp_path / "c.parquet")
    error = refused(tmp_path / "c.parquet", store)
    assert locations(error) == ["column opened_at", "column csat"]
    assert "without a time zone" in error.details[0].message
    assert "BOOLEAN" in error.details[1].message


def test_parquet_cells_are_located_by_record(tmp_path: Path, store: Path) -> None:
    n = 5
    table = pa.table(
        {
            "contact_id": [f"C{i}" for i in range(n)],
            "opened_at": pa.array([datetime(2026, 1, 1, i, tzinfo=UTC) for i in range(n)], pa.timestamp("us", "UTC")),
            "answered_at": pa.array([None] * n, pa.timestamp("us", "UTC")),
            "resolved_at": pa.array([None] * n, pa.timestamp("us", "UTC")),
            "channel": ["phone", "chat", None, "email", "phone"],
            "first_contact_resolved": pa.array([None] * n, pa.bool_()),
            "abandoned": [False] * n,
            "csat": pa.array([1.0, 2.0, 3.0, 4.5, 5.0]),
            "nps": pa.array([None] * n, pa.int64()),
            "handle_seconds": pa.array([1.5] * n),
            "cost": ["1.10", "2.20", "3.30", "4.40", "5.50"],
        }
    )
    pq.write_table(table, tmp_path / "c.parquet")
    error = refused(tmp_path / "c.parquet", store)
    # Parquet has no header: the first record is row 1.
    assert locations(error) == ["row 3, column channel", "row 4, column csat"]


def test_unknown_format_and_missing_file(tmp_path: Path, store: Path) -> None:
    (tmp_path / "c.txt").write_text("x", encoding="utf-8")
    assert refused(tmp_path / "c.txt", store).details[0].code == "unknown_format"
    assert refused(tmp_path / "nope.csv", store).details[0].code == "file_not_found"


def test_an_extra_declared_schema_column_type_date(tmp_path: Path, store: Path) -> None:
    schema = DatasetSchema(
        name="visits",
        time_column="day",
        columns=(Column("day", "date", nullable=False), Column("count", "integer", nullable=False)),
    )
    path = tmp_path / "v.csv"
    path.write_text("day,count\n2026-01-02,3\n2026-01-01,-4\n", encoding="utf-8")
    result = dataset_file_ingest(source=path, schema=schema, dest_dir=store)
    assert (str(result.period_min), str(result.period_max), result.row_count) == ("2026-01-01", "2026-01-02", 2)
    path.write_text("day,count\n02/01/2026,3\n", encoding="utf-8")
    with pytest.raises(PactboardError) as info:
        dataset_file_ingest(source=path, schema=schema, dest_dir=tmp_path / "other")
    assert locations(info.value) == ["row 2, column day"]
    assert "write it as YYYY-MM-DD" in info.value.details[0].message
