"""CSV import: validate every row, show what would change, then apply all of it or nothing.

One implementation serves the `import_jurisdictions` command and the admin's import page. The
column format is `format`; reading the file and its cells is `parse` and `rows`; comparing with
the database is `plan` and writing is `apply`, both applying the services' decisions in bulk. Rows are matched
on the jurisdiction's slug and the program, so running the same file twice changes nothing the
second time.
"""

from dataclasses import dataclass, field

from django.db import transaction

from .. import services
from ..audit import audit_context
from . import limits
from .parse import MAX_FILE_BYTES, RowError, read_csv  # noqa: F401  (part of the import API)
from .plan import Plan, RowChange, programs_and_requirements  # noqa: F401
from .rows import RowReader


class _Refused(Exception):
    """Raised inside the transaction to roll it back when a re-check under lock finds errors."""


@dataclass
class ImportReport:
    filename: str = ""
    rows: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    applied: bool = False

    @property
    def ok(self):
        return not self.errors

    def counts(self):
        result = {"new": 0, "changed": 0, "unchanged": 0}
        for row in self.rows:
            result[row.action] += 1
        return result

    def summary(self):
        c = self.counts()
        return f"{c['new']} new, {c['changed']} changed, {c['unchanged']} unchanged"


def import_jurisdictions(data, *, filename="", user=None, commit=True, max_rows=limits.MAX_ROWS):
    """Validate `data` (bytes or text of a CSV file) and, when `commit` and valid, apply it.

    Returns an ImportReport. Nothing is written unless every row is valid; the write happens in one
    transaction, with the rows it changes locked, and is checked again under those locks.
    """
    report = ImportReport(filename=filename)
    parsed = read_csv(data, report, max_rows)
    if parsed is None:
        return report
    header, records = parsed
    may_admit = services.may_admit(user)
    if not commit:
        _plan(header, records, report, lock=False, may_admit=may_admit)
        return report
    stamp = services.import_stamp(user=user, filename=filename)
    try:
        with transaction.atomic():
            plan = _plan(header, records, report, lock=True, may_admit=may_admit, stamp=stamp)
            if not report.ok:
                raise _Refused()
            with audit_context(stamp.via):
                plan.apply()
            report.applied = True
    except _Refused:
        report.applied = False
    return report


def _plan(header, records, report, *, lock, may_admit, stamp=None):
    programs, requirements = programs_and_requirements()
    reader = RowReader(header, programs=programs, requirements=requirements)
    checked = []
    for line, record in records:
        cells = reader.cells(line, record)
        checked.append((cells, reader.identity(cells)))
    return Plan(reader, checked, report, lock=lock, may_admit=may_admit, stamp=stamp)
