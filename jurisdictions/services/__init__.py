"""Writes that enforce a rule, a role or record history: the admin, the API, the importer, the
admin's CSV import and `generate_jurisdictions` all go through this package.

Every function takes keyword-only arguments, the acting `user` (None for the command line) and `via`
(admin, api, import), so the audit trail says who changed what and through which door. Each
decision (who may set which status, the participating rule, the join date, versions, history
stamps, status-change rows, the cache) is one function in `common`; docs/write-path.md lists
where each rule lives. One module per entity; the public names are re-exported here, so
`from jurisdictions import services; services.enrollment_update(...)` reads as before.
"""

from .answers import certification_update, certifications_create_missing
from .common import (
    ADMIT_PERMISSION,
    CERTIFICATION_FIELDS,
    ENROLLMENT_FIELDS,
    JURISDICTION_FIELDS,
    PARTICIPATING,
    STATUS_CHANGE_COLUMNS,
    STATUS_NOTE_MAX_LENGTH,
    DuplicateRecordError,
    StaleWriteError,
    Stamp,
    check_status_permission,
    data_written,
    import_stamp,
    joined_on_for,
    lock_for_update,
    may_admit,
    next_version,
    participation_errors,
    participation_unmet,
    status_change_record,
    status_change_values,
    status_permission_error,
)
from .corrections import status_change_correct
from .enrollments import (
    enrollment_admit,
    enrollment_create,
    enrollment_exists_message,
    enrollment_mark_letter_sent,
    enrollment_set_status,
    enrollment_update,
)
from .jurisdictions import jurisdiction_create, jurisdiction_update
from .programs import requirement_create, requirement_delete, requirement_delete_error, requirement_update
from .reports import error_report_accept, error_report_dismiss, error_report_submit
from .restore import RESTORABLE, deleted_records, record_restore
from .sources import source_create, source_find_or_create, source_update, sources_load

__all__ = [
    "ADMIT_PERMISSION",
    "CERTIFICATION_FIELDS",
    "ENROLLMENT_FIELDS",
    "JURISDICTION_FIELDS",
    "PARTICIPATING",
    "RESTORABLE",
    "STATUS_CHANGE_COLUMNS",
    "STATUS_NOTE_MAX_LENGTH",
    "DuplicateRecordError",
    "StaleWriteError",
    "Stamp",
    "certification_update",
    "certifications_create_missing",
    "check_status_permission",
    "data_written",
    "deleted_records",
    "enrollment_admit",
    "enrollment_create",
    "enrollment_exists_message",
    "enrollment_mark_letter_sent",
    "enrollment_set_status",
    "enrollment_update",
    "error_report_accept",
    "error_report_dismiss",
    "error_report_submit",
    "import_stamp",
    "joined_on_for",
    "jurisdiction_create",
    "jurisdiction_update",
    "lock_for_update",
    "may_admit",
    "next_version",
    "participation_errors",
    "participation_unmet",
    "record_restore",
    "requirement_create",
    "requirement_delete",
    "requirement_delete_error",
    "requirement_update",
    "source_create",
    "source_find_or_create",
    "source_update",
    "sources_load",
    "status_change_correct",
    "status_change_record",
    "status_change_values",
    "status_permission_error",
]
