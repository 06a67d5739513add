"""The YAML importer never crashes: whatever text arrives, a Document or a PactboardError (issue 13, item 10).

Hypothesis mutates the demo documents line by line (drops, duplicates, replaces values with odd
scalars, long strings, deep nesting, YAML tags and anchors) and also feeds arbitrary text.
``engagement validate`` and the documents API call ``document_load``; an exception of any other
type would be a 500 or a traceback.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pactboard.core.errors import PactboardError
from pactboard.documents.spec import Document, document_load
from tests.documents.test_document import DEMO_FILES

pytestmark = pytest.mark.fuzz

TEXTS = [p.read_text(encoding="utf-8") for p in DEMO_FILES]

ODD_SCALARS = st.sampled_from(
    [
        "",
        "~",
        "null",
        "true",
        "1e400",
        "-1e400",
        ".nan",
        ".inf",
        "9" * 5000,
        "0x1F",
        "0o777",
        "2026-02-30",
        "2026-13-01",
        "'" + "x" * 20_000 + "'",
        "[" * 200 + "]" * 200,
        "{a: " * 100 + "1" + "}" * 100,
        "!!python/object:os.system 'ls'",
        "!!binary aGVsbG8=",
        "&a [*a]",
        "*undefined",
        "{}",
        "[]",
        "- 1\n- 2",
        "\t",
        "\x00",
        "é" * 300,
    ]
)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(TEXTS)).splitlines()
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        i = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        action = draw(st.sampled_from(["drop", "duplicate", "value", "indent"]))
        if action == "drop":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "value" and ":" in lines[i]:
            key = lines[i].split(":", 1)[0]
            lines[i] = f"{key}: {draw(ODD_SCALARS)}"
        else:
            lines[i] = " " * draw(st.integers(min_value=1, max_value=7)) + lines[i]
        if not lines:
            break
    return "\n".join(lines)


def _load_or_refuse(text: str) -> None:
    try:
        result: Document | str = document_load(text)
    except PactboardError as exc:
        result = exc.message
    assert isinstance(result, Document) or result.strip()


@given(mutated())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutated_documents_load_or_are_refused(text: str) -> None:
    _load_or_refuse(text)


@given(st.text(max_size=2000))
@settings(max_examples=150, deadline=None)
def test_arbitrary_text_loads_or_is_refused(text: str) -> None:
    _load_or_refuse(text)


@pytest.mark.parametrize(
    "text",
    [
        "pactboard: 1\nengagement: &a\n  name: *a\n",  # a self-referencing alias
        "a: &a [*a, *a]\n" + "".join(f"b{i}: &b{i} [*{'a' if i == 0 else f'b{i - 1}'}] \n" for i in range(30)),
        "pactboard: " + "9" * 100_000,  # the 100k-digit integer of issue 13
        "pactboard: 1\nengagement:\n  start_date: 2026-02-30\n",  # found by the fuzzer: a ValueError before
        "pactboard: 1\nkpis: " + "[" * 5000 + "]" * 5000 + "\n",  # nesting past Python's recursion limit
    ],
)
def test_hostile_yaml_is_refused(text: str) -> None:
    with pytest.raises(PactboardError):
        document_load(text)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # _construct_int refuses it while reading (a YAMLError): the YAML reader's word
        ("pactboard: " + "9" * 100_000, "yaml"),
        # PyYAML builds the date with datetime.date, which raises ValueError: a date that does not exist
        ("pactboard: 1\nengagement:\n  start_date: 2026-02-30\n", "invalid_date"),
        # PyYAML's composer recurses once per level: RecursionError, the word of a too deep JSON record
        ("pactboard: 1\nkpis: " + "[" * 5000 + "]" * 5000 + "\n", "nested_too_deep"),
    ],
    ids=["huge integer", "no such date", "too deep"],
)
def test_hostile_yaml_is_refused_with_a_code(text: str, code: str) -> None:
    with pytest.raises(PactboardError) as caught:
        document_load(text)
    assert [d.code for d in caught.value.details] == [code]
