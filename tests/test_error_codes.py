"""Every located domain error names its problem with a code (docs/api.md): none is built without one.

A static check over the source, so that an error written later cannot send ``"code": null`` again:
each ``ErrorDetail(...)`` passes a code (third argument or ``code=``), and each ``invalid(...)`` that
places its message at a field (``location=``) passes ``code=``.
"""

from __future__ import annotations

import ast
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "pactboard"


def _calls(name: str) -> list[tuple[str, ast.Call]]:
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name:
                found.append((f"{path.relative_to(SOURCE.parent)}:{node.lineno}", node))
    return found


def _keywords(call: ast.Call) -> set[str | None]:
    return {k.arg for k in call.keywords}


def test_every_error_detail_names_a_code():
    calls = _calls("ErrorDetail")
    assert len(calls) > 200  # the scan sees the source it is meant to check
    missing = [where for where, call in calls if len(call.args) < 3 and "code" not in _keywords(call)]
    assert missing == [], "ErrorDetail without a code (pass the problem's word, docs/api.md): " + ", ".join(missing)


def test_every_located_invalid_names_a_code():
    calls = [(where, call) for where, call in _calls("invalid") if "location" in _keywords(call)]
    assert len(calls) > 30
    missing = [where for where, call in calls if "code" not in _keywords(call)]
    assert missing == [], "invalid(..., location=) without code= (docs/api.md): " + ", ".join(missing)
