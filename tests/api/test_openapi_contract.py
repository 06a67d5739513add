"""The OpenAPI document names every status an operation can answer, each error with the one error body."""

from __future__ import annotations

import pytest
from ninja import Schema

from pactboard.api.main import api
from pactboard.core.errors import ErrorDetail, error_body

ERROR_REF = "#/components/schemas/ErrorOut"
WRITES = {"post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema() -> dict:
    return api.get_openapi_schema()


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, op in item.items():
            yield path, method, op


def test_the_error_body_is_one_component_with_error_bodys_fields(schema):
    component = schema["components"]["schemas"]["ErrorOut"]
    # The fields of core.errors.error_body, which every API error answers with.
    body = error_body(message="m", kind="invalid", details=[ErrorDetail("d", "field", "code")])
    assert set(component["properties"]) == set(body) == {"message", "kind", "details"}
    detail = schema["components"]["schemas"]["ErrorDetailOut"]
    assert set(detail["properties"]) == set(body["details"][0]) == {"message", "location", "code"}


def test_every_operation_documents_401_404_422_with_the_error_body(schema):
    missing = []
    for path, method, op in _operations(schema):
        responses = {str(code): r for code, r in op["responses"].items()}
        # Writes can also be refused by role (403), by state (409), for a malformed (400) or too large (413) body.
        codes = {"401", "404", "422"} | ({"400", "403", "409", "413"} if method in WRITES else set())
        for code in sorted(codes):
            ref = responses.get(code, {}).get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
            if ref != ERROR_REF:
                missing.append(f"{method.upper()} {path} {code}")
    assert not missing, missing


def test_there_are_operations_to_check(schema):
    # A walk over nothing would pass: the API has well over 50 operations.
    assert sum(1 for _ in _operations(schema)) > 50


def _schema_classes(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("pactboard."):
            found.append(sub)
        found += _schema_classes(sub)
    return found


def test_each_component_name_is_one_schema(schema):
    # Components are keyed by class name: two schemas of one name would document one operation with the
    # other's fields (datasets' VersionOut once described the KPI set's versions).
    by_name: dict[str, set[str]] = {}
    for cls in _schema_classes(Schema):
        by_name.setdefault(cls.__name__, set()).add(f"{cls.__module__}.{cls.__qualname__}")
    assert {name: where for name, where in by_name.items() if len(where) > 1} == {}
