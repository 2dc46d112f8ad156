"""Staff data entry, one module per part of the data.

Every write goes through `services`, which applies the participating rule, the roles (editors enter
data, reviewers admit) and the version check, and records who changed what through the admin.
"""

from . import enrollments, programs, reports  # noqa: F401  (registers their admins)
from .base import VIA, WRITE_ERRORS, AuditedAdmin, error_text
from .imports import IMPORT_MAX_BYTES, IMPORT_PERMISSIONS
from .jurisdictions import JurisdictionAdmin

__all__ = [
    "IMPORT_MAX_BYTES",
    "IMPORT_PERMISSIONS",
    "VIA",
    "WRITE_ERRORS",
    "AuditedAdmin",
    "JurisdictionAdmin",
    "error_text",
]
