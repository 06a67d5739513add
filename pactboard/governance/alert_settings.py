"""An engagement's alert thresholds: read them (defaults when unset) and change them (docs/governance.md, "Alerts").

``AlertSettings`` holds, per engagement, N missed periods in a row that make a KPI chronic
(``chronic_after``), the days after a period closes before its missing value is late
(``grace_days``) and how many days before a review its attendees are reminded
(``review_notice_days``). The client's administrators and managers change them
(``policy.alert_settings_may``); each change is audited as ``alert.settings`` with the values
before and after. The next scan uses the new values.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from pactboard.accounts.models import Membership
from pactboard.audit.services import audit_record
from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.core.locks import for_update
from pactboard.engagements.models import Engagement
from pactboard.governance import policy
from pactboard.governance.alerts import alert_thresholds
from pactboard.governance.models import AlertSettings


@dataclass(frozen=True)
class Bound:
    low: int
    high: int
    unit: str
    what: str


# Inclusive bounds of each setting; what a value means, for the error that names the field.
BOUNDS: dict[str, Bound] = {
    "chronic_after": Bound(1, 24, "missed periods", "missed periods in a row that make a KPI chronic"),
    "grace_days": Bound(0, 90, "days", "days after a period closes before its missing value is late"),
    "review_notice_days": Bound(1, 30, "days", "days before a review that its attendees are reminded"),
}
FIELDS = tuple(BOUNDS)
# The machine-readable code of each problem (an error detail's "code"), in the words the value checks of
# measurements use for the same problems (``measurements.services.values``, ``value_import.checks``).
UNKNOWN_SETTING = "unknown_setting"
NOT_INTEGER = "not_integer"
OUT_OF_RANGE = "out_of_range"


def alert_settings_values(*, engagement: Engagement) -> dict[str, int]:
    """The engagement's thresholds as the scan uses them: its row, else the defaults."""
    return dict(zip(FIELDS, alert_thresholds(engagement=engagement), strict=True))


def alert_settings_check(changes: dict[str, object]) -> list[ErrorDetail]:
    """Every problem with ``changes`` (field -> new value), each located at its field with the fix."""
    errors = []
    for name, value in changes.items():
        bound = BOUNDS.get(name)
        if bound is None:
            errors.append(ErrorDetail(f"Unknown setting: use one of {', '.join(FIELDS)}.", name, UNKNOWN_SETTING))
        elif isinstance(value, bool) or not isinstance(value, int):
            errors.append(ErrorDetail(f"Give a whole number of {bound.unit}.", name, NOT_INTEGER))
        elif not bound.low <= value <= bound.high:
            errors.append(
                ErrorDetail(
                    f"{value} is out of range: set the {bound.what} between {bound.low} and {bound.high}.",
                    name,
                    OUT_OF_RANGE,
                )
            )
    return errors


def alert_settings_update(
    *,
    actor: Membership,
    engagement: Engagement,
    chronic_after: int | None = None,
    grace_days: int | None = None,
    review_notice_days: int | None = None,
) -> AlertSettings:
    """Change the given thresholds (None keeps one as it is); the others keep their value or default."""
    policy.alert_settings_require(actor=actor, engagement=engagement)
    changes: dict[str, object] = {
        name: value
        for name, value in (
            ("chronic_after", chronic_after),
            ("grace_days", grace_days),
            ("review_notice_days", review_notice_days),
        )
        if value is not None
    }
    errors = alert_settings_check(changes)
    if errors:
        raise PactboardError("The alert settings were not changed.", details=errors)
    with transaction.atomic():
        # A new row starts from the model's defaults, which are alert_rules' defaults.
        row, _ = for_update(AlertSettings.objects.all()).get_or_create(engagement=engagement)
        before = {name: getattr(row, name) for name in FIELDS}
        for name, value in changes.items():
            setattr(row, name, value)
        row.save()
        after = {name: getattr(row, name) for name in FIELDS}
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="alert.settings",
            obj=row,
            engagement_id=engagement.pk,
            before=before,
            after=after,
        )
    return row


__all__ = [
    "BOUNDS",
    "FIELDS",
    "NOT_INTEGER",
    "OUT_OF_RANGE",
    "UNKNOWN_SETTING",
    "alert_settings_check",
    "alert_settings_update",
    "alert_settings_values",
]
