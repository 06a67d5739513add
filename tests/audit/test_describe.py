"""Audit events in words: who, which object by name, what changed from what to what."""

from __future__ import annotations

from pactboard.audit.describe import Change, action_words, event_describe


def test_actions_read_as_past_tense_sentences():
    assert action_words("objective.create") == "created objective"
    assert action_words("engagement.update") == "changed engagement"
    assert action_words("agreement.kpi_update") == "changed KPI of agreement"
    assert action_words("membership.role") == "changed the role of membership"
    assert action_words("import.values") == "imported values"
    assert action_words("custom_kpi.create") == "created custom KPI"
    # An action nobody taught it still reads, rather than failing.
    assert action_words("thing.frobnicate") == "thing: frobnicate"


def test_an_update_names_each_changed_field_from_what_to_what():
    words = event_describe(
        actor_email="carla@acme.example",
        organisation_name="Acme Retail",
        action="engagement.update",
        object_type="engagements.engagement",
        object_id="4",
        object_repr="Acme support",
        before={"monthly_fee": "100000.00", "name": "Acme support", "owner_id": None},
        after={"monthly_fee": "120000.00", "name": "Acme support", "owner_id": 7},
    )
    assert words.sentence == "carla@acme.example (Acme Retail) changed engagement “Acme support”"
    # Unchanged fields (name) are left out; "_id" is dropped from labels; None reads as a dash.
    assert words.changes == [Change("monthly fee", "100000.00", "120000.00"), Change("owner", "—", "7")]
    assert words.changes_text == "monthly fee: 100000.00 → 120000.00; owner: — → 7"


def test_a_system_event_without_a_name_falls_back_to_its_type_and_id():
    words = event_describe(
        actor_email="",
        organisation_name="",
        action="user.create",
        object_type="accounts.user",
        object_id="12",
        object_repr="",
        before=None,
        after={"active": True},
    )
    assert words.sentence == "system created user #12"
    assert words.changes == [Change("active", "—", "yes")]
