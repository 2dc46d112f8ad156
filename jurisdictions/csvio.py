"""The CSV column format, shared by the importer and every CSV export so that an export re-imports
unchanged.

One row per jurisdiction and program: the jurisdiction's fields, the enrollment's status and dates,
one column per requirement code holding the answer, then notes and the enrollment's source. A
jurisdiction enrolled in no program is one row with the program columns blank.
"""

import csv
import io

from .models import Certification, Enrollment, Jurisdiction, Requirement

JURISDICTION_COLUMNS = ["slug", "name", "state", "kind", "geoid", "ocd_id"]
ENROLLMENT_COLUMNS = ["program", "status", "site_type", "letter_sent_on", "response_due_on", "joined_on"]
TAIL_COLUMNS = ["notes", "source_title", "source_publisher", "source_url", "source_date"]
REQUIRED_COLUMNS = ["name", "state", "kind"]

# A spreadsheet runs a cell that starts with one of these as a formula; exports prefix it with an
# apostrophe (shown as text) and the importer removes that prefix again.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def requirement_codes():
    """Requirement codes in program and list order, each once."""
    codes = Requirement.objects.order_by("program__launched_on", "program_id", "order", "code")
    return list(dict.fromkeys(codes.values_list("code", flat=True)))


def csv_columns(codes=None):
    codes = requirement_codes() if codes is None else codes
    return JURISDICTION_COLUMNS + ENROLLMENT_COLUMNS + codes + TAIL_COLUMNS


def neutralise(value):
    """Text of a cell, made safe to open in a spreadsheet."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def restore(text):
    """Undo `neutralise`: the importer reads back exactly what was exported."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        return text[1:]
    return text


def _date(value):
    return value.isoformat() if value else ""


def iter_export_rows(jurisdictions, *, programs=None, statuses=None, chunk_size=2000):
    """Yield the header, then the rows of `jurisdictions` in its order, a chunk at a time.

    `programs` (slugs) and `statuses` narrow which enrollments are written, so a list filtered by
    program or status exports exactly those rows. Memory stays flat whatever the size: only ids
    are read in full, everything else a chunk at a time.
    """
    requirements = dict(Requirement.objects.values_list("id", "code"))
    codes = requirement_codes()
    header = csv_columns(codes)
    yield header
    code_index = {code: header.index(code) for code in codes}
    width = len(header)

    ids = list(jurisdictions.values_list("id", flat=True))
    enrollment_filter = {}
    if programs:
        enrollment_filter["program__slug__in"] = programs
    if statuses:
        enrollment_filter["status__in"] = statuses
    narrowed = bool(enrollment_filter)

    for start in range(0, len(ids), chunk_size):
        chunk = ids[start : start + chunk_size]
        jurisdiction_rows = {
            row[0]: row
            for row in Jurisdiction.objects.filter(id__in=chunk).values_list(
                "id", "slug", "name", "state", "kind", "geoid", "ocd_id"
            )
        }
        enrollments = {}
        for row in (
            Enrollment.objects.filter(jurisdiction_id__in=chunk, **enrollment_filter)
            .order_by("program__launched_on", "program_id")
            .values_list(
                "id",
                "jurisdiction_id",
                "program__slug",
                "status",
                "site_type",
                "letter_sent_on",
                "response_due_on",
                "joined_on",
                "notes",
                "source__title",
                "source__publisher",
                "source__url",
                "source__published_on",
            )
        ):
            enrollments.setdefault(row[1], []).append(row)
        answers = {}
        for enrollment_id, requirement_id, answer in Certification.objects.filter(
            enrollment__jurisdiction_id__in=chunk,
            **{f"enrollment__{k}": v for k, v in enrollment_filter.items()},
        ).values_list("enrollment_id", "requirement_id", "answer"):
            answers.setdefault(enrollment_id, []).append((requirement_id, answer))

        for jurisdiction_id in chunk:
            _, slug, name, state, kind, geoid, ocd_id = jurisdiction_rows[jurisdiction_id]
            identity = [slug, name, state, kind, geoid or "", ocd_id]
            rows = enrollments.get(jurisdiction_id)
            if not rows:
                if not narrowed:
                    yield [neutralise(v) for v in identity] + [""] * (width - len(identity))
                continue
            for e in rows:
                cells = (
                    identity
                    + [e[2], e[3], e[4], _date(e[5]), _date(e[6]), _date(e[7])]
                    + [""] * len(codes)
                    + [e[8], e[9] or "", e[10] or "", e[11] or "", _date(e[12])]
                )
                for requirement_id, answer in answers.get(e[0], ()):
                    cells[code_index[requirements[requirement_id]]] = answer
                yield [neutralise(v) for v in cells]


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value):
        return value


def iter_csv_lines(rows):
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(row)


def export_csv_text(jurisdictions, **kwargs):
    """The whole export as one string (tests and small files)."""
    buffer = io.StringIO()
    for line in iter_csv_lines(iter_export_rows(jurisdictions, **kwargs)):
        buffer.write(line)
    return buffer.getvalue()
