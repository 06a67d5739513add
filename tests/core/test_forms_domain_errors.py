"""A service's error lands at the form field it names, also when it names it in the API's words."""

from __future__ import annotations

from django import forms

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.core.forms import form_add_domain_error


class ActionLikeForm(forms.Form):
    title = forms.CharField(required=False)
    owner = forms.IntegerField(required=False)


def _refused(*details: ErrorDetail) -> PactboardError:
    return PactboardError("The action cannot be recorded.", list(details))


def test_details_go_to_their_fields_and_the_rest_above_the_form():
    form = ActionLikeForm({"title": "", "owner": "7"})
    assert form.is_valid()
    form_add_domain_error(
        form,
        _refused(
            ErrorDetail("Say what is to be done.", "title", "required"),
            ErrorDetail("Pick one of their members.", "owner_membership_id", "not_a_member"),
            ErrorDetail("The meeting is closed."),
        ),
    )
    assert form.errors["title"] == ["Say what is to be done."]
    # Without a name for it, a location that is no field of the form stays readable above the form.
    assert form.errors["__all__"] == ["owner_membership_id: Pick one of their members.", "The meeting is closed."]


def test_a_location_in_the_apis_words_is_named_to_the_forms_field():
    form = ActionLikeForm({"title": "x", "owner": "7"})
    assert form.is_valid()
    form_add_domain_error(
        form,
        _refused(ErrorDetail("Pick one of their members.", "owner_membership_id", "not_a_member")),
        fields={"owner_membership_id": "owner"},
    )
    assert form.errors == {"owner": ["Pick one of their members."]}


def test_an_error_without_details_is_its_message_above_the_form():
    form = ActionLikeForm({})
    assert form.is_valid()
    form_add_domain_error(form, _refused())
    assert form.errors == {"__all__": ["The action cannot be recorded."]}
