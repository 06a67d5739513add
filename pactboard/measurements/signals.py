"""What the measurements room tells the floors above it, which it may not import.

``values_recorded`` is sent (inside the writing transaction) when values of an engagement were
created or revised. Receivers only schedule work after the commit (governance scans for alerts);
the business rules stay in their services.
"""

from __future__ import annotations

from django.dispatch import Signal

# Arguments: engagement (Engagement), kpi_codes (sorted list of the KPI codes whose values changed).
values_recorded = Signal()
