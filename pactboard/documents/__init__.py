"""Engagement as code: one YAML document for a whole engagement, its JSON Schema, import and export.

``spec`` is the document itself (pydantic models, checks, YAML reading and writing: no ORM);
``services`` imports a document into the engagement, KPI and dataset rooms and exports it back.
It sits above those rooms because a document spans all of them.
"""
