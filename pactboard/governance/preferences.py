"""Per-recipient e-mail preferences per kind of notification (immediately, daily digest, off) and time zone.

A kind without a preference is e-mailed immediately, so a kind added tomorrow reaches people at
once until they choose otherwise. An unsubscribe link (``EmailOptOut``, of one kind or of all)
counts as "off". "Off" stops e-mail only: the in-app notification is still recorded, because the
notification centre is the record of what happened (docs/governance.md, "Preferences").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from zoneinfo import available_timezones

from django.db import transaction
from django.db.models import Q

from pactboard.accounts.models import Membership
from pactboard.audit.services import audit_record
from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.engagements.models import Engagement
from pactboard.governance.models import EmailMode, EmailOptOut, NotificationPreference, RecipientSettings

DEFAULT_ZONE = "UTC"
_KIND = re.compile(r"^[a-z][a-z_]*(\.[a-z_]+)*$")


def email_modes(*, recipient_ids: Iterable[int], kind: str) -> dict[int, str]:
    """How each recipient wants e-mail of ``kind``: two queries however many recipients."""
    ids = list(recipient_ids)
    modes = {pk: str(EmailMode.IMMEDIATELY) for pk in ids}
    for pk, mode in NotificationPreference.objects.filter(membership_id__in=ids, kind=kind).values_list(
        "membership_id", "mode"
    ):
        modes[pk] = mode
    for pk in EmailOptOut.objects.filter(membership_id__in=ids, kind__in=[kind, ""]).values_list(
        "membership_id", flat=True
    ):
        modes[pk] = str(EmailMode.OFF)
    return modes


def preferences_for(*, membership: Membership, kinds: Iterable[str]) -> dict[str, str]:
    """The mode of each of ``kinds`` for the membership, opt-outs included (two queries)."""
    modes = {k: str(EmailMode.IMMEDIATELY) for k in kinds}
    modes.update(
        dict(NotificationPreference.objects.filter(membership=membership).values_list("kind", "mode")),
    )
    opted = set(EmailOptOut.objects.filter(membership=membership).values_list("kind", flat=True))
    return {k: (str(EmailMode.OFF) if "" in opted or k in opted else m) for k, m in modes.items()}


def preferences_set(
    *, actor: Membership, modes: Mapping[str, str], time_zone: str | None = None, all_kinds: Iterable[str] = ()
) -> dict[str, str]:
    """Save the actor's own modes (and time zone, when given); they replace any unsubscribe of those kinds.

    Saving is the recipient's latest word, so the opt-outs of the kinds it names are lifted and the
    modes written stand instead. An opt-out of all e-mail is turned into "off" for each of
    ``all_kinds`` not named, so choosing one kind never switches the others back on.
    """
    errors = [
        ErrorDetail(f"Unknown mode {mode!r}: use immediately, digest or off.", f"modes.{kind}", "invalid_choice")
        for kind, mode in modes.items()
        if mode not in EmailMode.values
    ]
    errors += [
        ErrorDetail(
            "A kind is written like alert.breach (lower case, dots between words).", f"modes.{kind}", "invalid_kind"
        )
        for kind in modes
        if len(kind) > 40 or not _KIND.match(kind)
    ]
    if time_zone and time_zone not in available_timezones():
        errors.append(
            ErrorDetail(
                f"Unknown time zone {time_zone!r}: use a name like Europe/Berlin.", "time_zone", "unknown_time_zone"
            )
        )
    if errors:
        raise PactboardError("The preferences cannot be saved.", details=errors)
    with transaction.atomic():
        if modes and EmailOptOut.objects.filter(membership=actor, kind="").exists():
            for kind in set(all_kinds) - set(modes):
                NotificationPreference.objects.update_or_create(
                    membership=actor, kind=kind, defaults={"mode": EmailMode.OFF}
                )
            EmailOptOut.objects.filter(membership=actor, kind="").delete()
        EmailOptOut.objects.filter(membership=actor, kind__in=list(modes)).delete()
        for kind, mode in modes.items():
            NotificationPreference.objects.update_or_create(membership=actor, kind=kind, defaults={"mode": mode})
        if time_zone is not None:
            RecipientSettings.objects.update_or_create(membership=actor, defaults={"time_zone": time_zone})
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="notification.preferences_set",
            obj=actor,
            after={"modes": dict(modes), "time_zone": time_zone},
        )
    return preferences_for(membership=actor, kinds=modes)


def default_time_zones(*, membership_ids: Iterable[int]) -> dict[int, str]:
    """The zone of each membership's organisation's first engagement (UTC without one): two queries."""
    ids = list(membership_ids)
    orgs = dict(Membership.objects.filter(pk__in=ids).values_list("pk", "organisation_id"))
    org_zone: dict[int, str] = {}
    rows = (
        Engagement.objects.filter(Q(client_id__in=orgs.values()) | Q(provider_id__in=orgs.values()))
        .order_by("pk")
        .values_list("client_id", "provider_id", "time_zone")
    )
    for client_id, provider_id, tz in rows:
        org_zone.setdefault(client_id, tz)
        org_zone.setdefault(provider_id, tz)
    return {pk: org_zone.get(orgs.get(pk, 0), DEFAULT_ZONE) for pk in ids}


def recipient_time_zones(*, membership_ids: Iterable[int]) -> dict[int, str]:
    """Each membership's digest time zone: its own choice, else ``default_time_zones``."""
    ids = list(membership_ids)
    chosen = dict(
        RecipientSettings.objects.filter(membership_id__in=ids)
        .exclude(time_zone="")
        .values_list("membership_id", "time_zone")
    )
    missing = [pk for pk in ids if pk not in chosen]
    return {**(default_time_zones(membership_ids=missing) if missing else {}), **chosen}


def recipient_time_zone_chosen(*, membership: Membership) -> str:
    """The zone the recipient chose ("" when they left it to the default)."""
    row = RecipientSettings.objects.filter(membership=membership).first()
    return row.time_zone if row else ""
