"""REST endpoints for provider capability profiles: read one, and a provider's managers edit their own.

A client reads the profiles of its engagements' providers, a provider its own; any other
organisation is a 404. Edits go through the profile page's form (``ProviderProfileForm``) and
service, so the API refuses what the page refuses, in the same words.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, ModelSchema, Schema

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.api import ApiRouter
from pactboard.core.errors import invalid
from pactboard.core.forms import form_require_valid
from pactboard.core.policy import verdict_require
from pactboard.engagements import policy, selectors, services
from pactboard.engagements.forms import PROFILE_TEXT_MAX, ProviderProfileForm
from pactboard.engagements.models import ProviderProfile

router = ApiRouter(tags=["provider profiles"])


class ProviderProfileOut(ModelSchema):
    """The profile's texts as written (list fields hold one item a line); ``updated_at`` is null until written."""

    organisation_id: int
    organisation_name: str
    updated_at: datetime | None

    class Meta:
        model = ProviderProfile
        fields = ["summary", "expertise", "resources", "locations", "certifications", "limitations"]

    @staticmethod
    def resolve_organisation_id(obj: ProviderProfile) -> int:
        return obj.organisation_id

    @staticmethod
    def resolve_organisation_name(obj: ProviderProfile) -> str:
        return obj.organisation.name

    @staticmethod
    def resolve_updated_at(obj: ProviderProfile) -> datetime | None:
        return obj.updated_at if obj.pk else None


class ProviderProfilePatch(Schema):
    """Only the fields sent change; an empty string clears one."""

    summary: str | None = Field(default=None, max_length=PROFILE_TEXT_MAX)
    expertise: str | None = Field(default=None, max_length=PROFILE_TEXT_MAX)
    resources: str | None = Field(default=None, max_length=PROFILE_TEXT_MAX)
    locations: str | None = Field(default=None, max_length=PROFILE_TEXT_MAX)
    certifications: str | None = Field(default=None, max_length=PROFILE_TEXT_MAX)
    limitations: str | None = Field(default=None, max_length=PROFILE_TEXT_MAX)


@router.get("/{org_id}", response=ProviderProfileOut)
def provider_profile_get(request: AuthenticatedHttpRequest, org_id: int) -> ProviderProfile:
    """A provider's capability profile: the token's own, or a provider of one of its engagements."""
    return selectors.provider_profile_get(membership=request.membership, organisation_id=org_id)


@router.patch("/{org_id}", response=ProviderProfileOut)
def provider_profile_update(
    request: AuthenticatedHttpRequest, org_id: int, payload: ProviderProfilePatch
) -> ProviderProfile:
    """Change the provider's own profile (its administrators and managers); a client reading it gets a 403."""
    membership = request.membership
    profile = selectors.provider_profile_get(membership=membership, organisation_id=org_id)
    verdict_require(policy.provider_profile_edit_may(actor=membership))
    changes = payload.dict(exclude_unset=True)
    nulls = sorted(k for k, v in changes.items() if v is None)
    if nulls:
        raise invalid(
            f'Leave out what does not change, or send "" to clear: {", ".join(nulls)}.',
            location=nulls[0],
            code="null_not_allowed",
        )
    data: dict[str, Any] = {name: getattr(profile, name) for name in services.PROFILE_FIELDS} | changes
    cleaned = form_require_valid(ProviderProfileForm(data), "The profile could not be saved.")
    return services.provider_profile_update(actor=membership, **cleaned)
