"""Files built to hang or exhaust a worker are refused quickly with a message naming the row and the fix.

Each case is one the issue reported (a file that left its import "running" forever, or made the
worker store or allocate far too much). The limits come from ``pactboard.measurements.limits``;
the expected row numbers follow the spreadsheet rule of docs/data-in.md (header = row 1 in CSV,
line N = row N in JSON Lines).
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from defusedxml import EntitiesForbidden
from openpyxl import Workbook

from pactboard.core.errors import PactboardError
from pactboard.formulas.schema import CONTACTS
from pactboard.measurements import limits
from pactboard.measurements.ingest import dataset_file_ingest
from pactboard.measurements.value_import import KpiRule, value_file_parse

RULES = {"csat": KpiRule(code="csat", period_kind="month")}
CONTACT_HEADER = ",".join(CONTACTS.column_names)
GOOD_CONTACT = "c1,2026-03-01T10:00:00Z,,,phone,,false,,,,"
GOOD_JSON = json.dumps({"contact_id": "c1", "opened_at": "2026-03-01T10:00:00Z", "channel": "phone", "abandoned": "no"})


def parse_values(path: Path) -> PactboardError:
    with pytest.raises(PactboardError) as info:
        value_file_parse(source=path, kpis=RULES, first_period_day=date(2026, 1, 1), last_period_day=date(2026, 12, 31))
    return info.value


def ingest_refused(path: Path, store: Path) -> PactboardError:
    with pytest.raises(PactboardError) as info:
        dataset_file_ingest(source=path, schema=CONTACTS, dest_dir=store)
    assert not store.exists() or list(store.rglob("*")) == [], "a refused file leaves nothing behind"
    return info.value


def bomb_xlsx(path: Path) -> Path:
    """A real workbook whose sheet XML declares nested entities (billion laughs: 10^9 x 'lol' if expanded)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["kpi", "period", "value"])
    sheet.append(["csat", "2026-03", "ENTITY"])
    buffer = io.BytesIO()
    book.save(buffer)
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + ("" if i == 1 else str(i - 1)) + ";") * 10}">' for i in range(1, 10)
    )
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = f"<!DOCTYPE lolz [{entities}]>" + data.decode().replace("ENTITY", "&lol9;")
                data = text.encode()
            target.writestr(item, data)
    return path


# --- value files (CSV, XLSX) ---------------------------------------------------------------


def test_a_20_mb_single_line_value_csv_is_refused_at_row_1(tmp_path: Path) -> None:
    path = tmp_path / "one-line.csv"
    path.write_text("kpi,period,value," + "x" * 20_000_000)
    error = parse_values(path)
    assert f"row 1 is longer than {limits.MAX_LINE_BYTES:,} bytes" in error.message
    assert error.details[0].location == "row 1"


def test_a_value_longer_than_the_field_limit_names_its_row(tmp_path: Path) -> None:
    # Row 3 (header = 1) holds one note of 200,000 characters: under the line limit, over the field limit.
    path = tmp_path / "long-note.csv"
    path.write_text("kpi,period,value,note\ncsat,2026-01,80,ok\ncsat,2026-02,81," + "n" * 200_000 + "\n")
    error = parse_values(path)
    assert f"row 3 has a value longer than {limits.MAX_FIELD_CHARS:,} characters" in error.message
    assert error.details[0].location == "row 3"


def test_an_xml_entity_bomb_in_an_xlsx_is_refused_without_expanding_it(tmp_path: Path) -> None:
    # openpyxl reads through defusedxml when it is importable; the project depends on it.
    assert openpyxl.DEFUSEDXML is True
    error = parse_values(bomb_xlsx(tmp_path / "bomb.xlsx"))
    assert error.details[0].code == "xml_entities"
    assert "declares entities" in error.message
    # defusedxml refused the declaration itself (expat's amplification limit would be the second line of defence).
    causes: list[BaseException] = []
    cause: BaseException | None = error
    while cause is not None:
        causes.append(cause)
        cause = cause.__cause__ or cause.__context__
    assert any(isinstance(c, EntitiesForbidden) for c in causes)


def test_a_2_mb_value_file_with_a_million_columns_is_refused_with_one_error(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("kpi,period,value" + ",a" * 1_000_000 + "\n")  # 2,000,016 bytes on one line
    error = parse_values(path)
    assert len(error.details) == 1
    assert error.details[0].location == "row 1"


def test_a_value_file_with_100_000_unknown_columns_keeps_a_bounded_error_list(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(
        "kpi,period,value," + ",".join(f"c{i}" for i in range(100_000)) + "\n"
    )  # 688,907 bytes: under the line limit
    error = parse_values(path)
    # 100,000 unknown columns: the first ERRORS_SHOWN are listed, then one line for the rest.
    assert len(error.details) == limits.ERRORS_SHOWN + 1
    assert error.details[-1].message == f"... and {100_000 - limits.ERRORS_SHOWN} more errors"
    assert "100000 problem(s)" in error.message


def test_a_value_file_over_the_row_limit_is_refused_at_the_first_row_past_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(limits, "MAX_VALUE_ROWS", 50)
    path = tmp_path / "many.csv"
    # 51 data rows: rows 2..52; row 52 is the 51st value, one past the limit of 50.
    path.write_text("kpi,period,value\n" + "csat,2026-01,80\n" * 51)
    error = parse_values(path)
    assert error.details[0].location == "row 52"
    assert "more than 50 values" in error.message


def test_a_value_file_at_the_row_limit_is_read(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(limits, "MAX_VALUE_ROWS", 3)
    path = tmp_path / "three.csv"
    path.write_text("kpi,period,value\ncsat,2026-01,80\ncsat,2026-02,81\ncsat,2026-03,82\n")
    parsed = value_file_parse(
        source=path, kpis=RULES, first_period_day=date(2026, 1, 1), last_period_day=date(2026, 12, 31)
    )
    assert [p.line for p in parsed.rows] == [2, 3, 4]


# --- dataset files (CSV, JSON Lines) ------------------------------------------------------


def test_a_20_mb_single_line_dataset_csv_is_refused_at_row_1(tmp_path: Path) -> None:
    path = tmp_path / "one-line.csv"
    path.write_text(CONTACT_HEADER + "," + "x" * 20_000_000)
    error = ingest_refused(path, tmp_path / "store")
    assert f"row 1 is longer than {limits.MAX_LINE_BYTES:,} bytes" in error.message


def test_a_dataset_csv_row_over_the_line_limit_is_named(tmp_path: Path) -> None:
    path = tmp_path / "long-row.csv"
    long_row = "c2,2026-03-01T10:00:00Z,,,phone," + "y" * (limits.MAX_LINE_BYTES + 10) + ",false,,,,"
    path.write_text(f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n{long_row}\n{GOOD_CONTACT}\n")
    error = ingest_refused(path, tmp_path / "store")
    assert f"row 3 is longer than {limits.MAX_LINE_BYTES:,} bytes" in error.message


def test_a_jsonl_file_that_is_one_2_mb_line_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({"contact_id": "x" * 2_000_000}) + "\n")
    error = ingest_refused(path, tmp_path / "store")
    assert f"row 1 is longer than {limits.MAX_LINE_BYTES:,} bytes" in error.message


def test_a_jsonl_line_over_2_mb_among_good_lines_is_named(tmp_path: Path) -> None:
    path = tmp_path / "among.jsonl"
    long_line = json.dumps({"contact_id": "x" * 2_200_000, "opened_at": "2026-03-01T10:00:00Z"})
    path.write_text(f"{GOOD_JSON}\n{long_line}\n{GOOD_JSON}\n")
    error = ingest_refused(path, tmp_path / "store")
    assert f"row 2 is longer than {limits.MAX_LINE_BYTES:,} bytes" in error.message


def test_a_jsonl_line_nested_a_million_levels_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text(f'{GOOD_JSON}\n{{"contact_id": {"[" * 1_000_000}{"]" * 1_000_000}}}\n')
    error = ingest_refused(path, tmp_path / "store")
    # 2,000,017 bytes: the line limit speaks first; either way row 2 is named.
    assert error.details[0].location == "row 2"


def test_a_jsonl_line_nested_100_000_levels_is_refused_for_its_depth(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text(f'{GOOD_JSON}\n{{"contact_id": {"[" * 100_000}{"]" * 100_000}}}\n')
    error = ingest_refused(path, tmp_path / "store")
    assert f"row 2 is nested deeper than {limits.MAX_JSON_DEPTH} levels" in error.message


def test_brackets_inside_json_strings_do_not_count_as_nesting(tmp_path: Path) -> None:
    path = tmp_path / "brackets.jsonl"
    record = {
        "contact_id": "[" * 500 + "{" * 500,
        "opened_at": "2026-03-01T10:00:00Z",
        "channel": "chat",
        "abandoned": "no",
    }
    path.write_text(json.dumps(record) + "\n")
    result = dataset_file_ingest(source=path, schema=CONTACTS, dest_dir=tmp_path / "store")
    assert result.row_count == 1


@pytest.mark.parametrize(
    "content", ["", "\n\n  \n", CONTACT_HEADER + "\n"], ids=["empty", "blank-lines", "header-only"]
)
def test_a_file_without_records_is_refused(tmp_path: Path, content: str) -> None:
    suffix = ".csv" if content.startswith("contact_id") else ".jsonl"
    path = tmp_path / f"empty{suffix}"
    path.write_text(content)
    error = ingest_refused(path, tmp_path / "store")
    assert "no records" in error.message


def test_a_2_mb_dataset_csv_with_a_million_columns_is_refused_with_one_error(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(CONTACT_HEADER + ",a" * 1_000_000 + "\n")
    error = ingest_refused(path, tmp_path / "store")
    assert len(error.details) == 1
    assert error.details[0].location == "row 1"


def test_a_dataset_csv_with_100_000_unknown_columns_keeps_a_bounded_error_list(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(CONTACT_HEADER + "," + ",".join(f"c{i}" for i in range(100_000)) + "\n")
    error = ingest_refused(path, tmp_path / "store")
    assert len(error.details) == limits.ERRORS_SHOWN + 1
    assert error.details[-1].message == f"... and {100_000 - limits.ERRORS_SHOWN} more errors"
