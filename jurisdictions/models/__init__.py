"""The tracker's data: programs, their requirements, jurisdictions and their enrollments.

The one rule of the domain, "an enrollment is participating only when every requirement of its
program is answered yes", is `Enrollment.participation_errors()`; every door (admin, API, importer)
reaches it through `jurisdictions.services`.

One module per concept; everything is re-exported here, so `from jurisdictions.models import X`
keeps working and the app label and tables are unchanged.
"""

from .base import (
    NOTES_MAX_LENGTH,
    State,
    TimeStampedModel,
    choice_constraint,
    geoid_validator,
    history,
    notes_length_validator,
    ocd_id_validator,
    web_url_validator,
)
from .certifications import (
    Certification,
    CertificationAnswer,
    CertificationBasis,
    CertificationLegalBasis,
    answers_summary,
)
from .enrollments import Enrollment, EnrollmentQuerySet, EnrollmentSiteType, EnrollmentStatus
from .imports import ImportJob, ImportJobState
from .jurisdictions import (
    SYNTHETIC_GEOID_PREFIX,
    Jurisdiction,
    JurisdictionKind,
    JurisdictionQuerySet,
    geoid_error,
)
from .programs import Program, Requirement, Source, SourceKind
from .reports import ErrorReport, ErrorReportState
from .status_changes import ChangeVia, StatusChange
from .versioning import DataVersion

__all__ = [
    "NOTES_MAX_LENGTH",
    "SYNTHETIC_GEOID_PREFIX",
    "Certification",
    "CertificationAnswer",
    "CertificationBasis",
    "ErrorReport",
    "ErrorReportState",
    "ImportJob",
    "ImportJobState",
    "SourceKind",
    "CertificationLegalBasis",
    "ChangeVia",
    "DataVersion",
    "Enrollment",
    "EnrollmentQuerySet",
    "EnrollmentSiteType",
    "EnrollmentStatus",
    "Jurisdiction",
    "JurisdictionKind",
    "JurisdictionQuerySet",
    "Program",
    "Requirement",
    "Source",
    "State",
    "StatusChange",
    "TimeStampedModel",
    "answers_summary",
    "choice_constraint",
    "geoid_error",
    "geoid_validator",
    "history",
    "notes_length_validator",
    "ocd_id_validator",
    "web_url_validator",
]
