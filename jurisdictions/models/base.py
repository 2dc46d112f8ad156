"""Pieces every model shares: timestamps, named choice constraints, the audit trail, and the
field validators that every door (admin, API, importer) applies through the models."""

from django.core.validators import MaxLengthValidator, RegexValidator, URLValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..audit import AuditedHistory


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(
        auto_now=True, help_text="When this record last changed in the tracker."
    )

    class Meta:
        abstract = True


def choice_constraint(field, choices, *, allow_blank=False):
    """A named CHECK constraint that keeps a choice column inside its TextChoices."""
    condition = Q(**{f"{field}__in": choices.values})
    if allow_blank:
        condition |= Q(**{field: ""})
    return models.CheckConstraint(condition=condition, name=f"%(app_label)s_%(class)s_{field}_valid")


def history(*, unindexed=()):
    """The audit trail. `unindexed` names copied columns no history query filters on: simple-history
    indexes every copied key, and each index is paid on every write (about 230,000 answers a file).

    The author column carries no database foreign key: the check it would run on every history
    row (about 400,000 for a national file) was a tenth of an import's time. Deleting a user
    through Django still clears it (SET_NULL is applied by Django's deletion collector).
    """
    return HistoricalRecords(
        bases=[AuditedHistory],
        cascade_delete_history=False,
        no_db_index=list(unindexed),
        user_db_constraint=False,
    )


class State(models.TextChoices):
    """USPS codes of the 50 states, the District of Columbia and the inhabited territories."""

    AL = "AL", "Alabama"
    AK = "AK", "Alaska"
    AZ = "AZ", "Arizona"
    AR = "AR", "Arkansas"
    CA = "CA", "California"
    CO = "CO", "Colorado"
    CT = "CT", "Connecticut"
    DE = "DE", "Delaware"
    DC = "DC", "District of Columbia"
    FL = "FL", "Florida"
    GA = "GA", "Georgia"
    HI = "HI", "Hawaii"
    ID = "ID", "Idaho"
    IL = "IL", "Illinois"
    IN = "IN", "Indiana"
    IA = "IA", "Iowa"
    KS = "KS", "Kansas"
    KY = "KY", "Kentucky"
    LA = "LA", "Louisiana"
    ME = "ME", "Maine"
    MD = "MD", "Maryland"
    MA = "MA", "Massachusetts"
    MI = "MI", "Michigan"
    MN = "MN", "Minnesota"
    MS = "MS", "Mississippi"
    MO = "MO", "Missouri"
    MT = "MT", "Montana"
    NE = "NE", "Nebraska"
    NV = "NV", "Nevada"
    NH = "NH", "New Hampshire"
    NJ = "NJ", "New Jersey"
    NM = "NM", "New Mexico"
    NY = "NY", "New York"
    NC = "NC", "North Carolina"
    ND = "ND", "North Dakota"
    OH = "OH", "Ohio"
    OK = "OK", "Oklahoma"
    OR = "OR", "Oregon"
    PA = "PA", "Pennsylvania"
    RI = "RI", "Rhode Island"
    SC = "SC", "South Carolina"
    SD = "SD", "South Dakota"
    TN = "TN", "Tennessee"
    TX = "TX", "Texas"
    UT = "UT", "Utah"
    VT = "VT", "Vermont"
    VA = "VA", "Virginia"
    WA = "WA", "Washington"
    WV = "WV", "West Virginia"
    WI = "WI", "Wisconsin"
    WY = "WY", "Wyoming"
    AS = "AS", "American Samoa"
    GU = "GU", "Guam"
    MP = "MP", "Northern Mariana Islands"
    PR = "PR", "Puerto Rico"
    VI = "VI", "U.S. Virgin Islands"


geoid_validator = RegexValidator(
    r"^[0-9]{2,15}$", "A Census GEOID is 2 to 15 digits (keep any leading zeros)."
)
# Control characters and U+FEFF are refused by name, so that the pattern means the same in Python
# and in the JSON Schema (ECMA) regex of the API's schema, whose `\s` sets differ.
ocd_id_validator = RegexValidator(
    r"^ocd-division/country:us(/[a-z_]+:[^/\s\x00-\x1f\x7f-\x9f\ufeff]+)*$",
    "An Open Civic Data division id looks like ocd-division/country:us/state:tn/place:memphis.",
)
# Links are followed by people reading the public pages: only web addresses, never ftp:// or
# javascript:. The importer, the admin and the API all refuse what this refuses.
# Its own code, so that a form does not swap the message for its generic "Enter a valid URL.".
web_url_validator = URLValidator(
    schemes=["http", "https"],
    message=_("Enter a web address starting with http:// or https://."),
    code="not_web_address",
)
# Free text (notes) has a bound so that one cell cannot grow a row, a page or an export without end.
NOTES_MAX_LENGTH = 10_000
notes_length_validator = MaxLengthValidator(NOTES_MAX_LENGTH)
