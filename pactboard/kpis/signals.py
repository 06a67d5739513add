"""What the agreements app tells the floors above it, which it may not import.

``version_agreed`` is sent (inside the signing transaction) when the last party's signature makes a
version agreed. Receivers only schedule work after the commit (measurements recomputes the KPIs the
version brings in force from the datasets already uploaded); the business rules stay in services.
"""

from __future__ import annotations

from django.dispatch import Signal

# Arguments: version (AgreementVersion), user (the signer whose signature agreed it), organisation.
version_agreed = Signal()
