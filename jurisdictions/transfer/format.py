"""The CSV column format, shared by the importer and every CSV export so that an export re-imports
unchanged, into the same database or an empty one.

One row per jurisdiction and program: the jurisdiction's fields, the enrollment's status and dates,
then for each requirement code its answer and the answer's details (who runs the facility, legal
basis, citation, evidence URL, who certified and when, the source the answer cites), then notes and
the enrollment's source. A jurisdiction enrolled in no program is one row with the program columns
blank. Files written before the answer details existed (answer columns only) still import: a
column that is absent keeps what is stored.
"""

from ..models import Requirement

JURISDICTION_COLUMNS = ["slug", "name", "state", "kind", "geoid", "ocd_id"]
ENROLLMENT_COLUMNS = ["program", "status", "site_type", "letter_sent_on", "response_due_on", "joined_on"]
# The enrollment's source reports its status and dates; the site type's source gives the site type.
SITE_TYPE_SOURCE_COLUMNS = [
    "site_type_source_title",
    "site_type_source_publisher",
    "site_type_source_url",
    "site_type_source_date",
]
TAIL_COLUMNS = [
    "notes",
    "source_title",
    "source_publisher",
    "source_url",
    "source_date",
    *SITE_TYPE_SOURCE_COLUMNS,
]
REQUIRED_COLUMNS = ["name", "state", "kind"]
FIXED_COLUMNS = frozenset(JURISDICTION_COLUMNS + ENROLLMENT_COLUMNS + TAIL_COLUMNS)

# `<code>_<suffix>` columns after each answer column: the suffix and the Certification field
# (the four source suffixes name the Source the answer cites, by its natural key).
ANSWER_DETAIL_FIELDS = {
    "operator": "facility_operator",
    "legal_basis": "legal_basis",
    "citation": "citation",
    "evidence_url": "evidence_url",
    "certified_by": "certified_by",
    "certified_on": "certified_on",
    "basis": "basis",  # certified or reported (issue 14)
}
ANSWER_SOURCE_SUFFIXES = ["source_title", "source_publisher", "source_url", "source_date"]
# A second document that says the same (issue 14: an answer reported by two reports).
ANSWER_SECOND_SOURCE_SUFFIXES = [f"second_{suffix}" for suffix in ANSWER_SOURCE_SUFFIXES]
ANSWER_SUFFIXES = [*ANSWER_DETAIL_FIELDS, *ANSWER_SOURCE_SUFFIXES, *ANSWER_SECOND_SOURCE_SUFFIXES]
# Which of them hold free text (an export guards them against spreadsheet formulas) and dates.
ANSWER_TEXT_SUFFIXES = frozenset(
    ["operator", "citation", "evidence_url", "certified_by", "source_title", "source_publisher", "source_url"]
    + ["second_source_title", "second_source_publisher", "second_source_url"]
)
ANSWER_DATE_SUFFIXES = frozenset(["certified_on", "source_date", "second_source_date"])

# A spreadsheet runs a cell that starts with one of these as a formula; exports prefix it with an
# apostrophe (shown as text) and the importer removes that prefix again.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def answer_columns(code):
    """The answer column of a requirement and its detail columns, in file order."""
    return [code, *(f"{code}_{suffix}" for suffix in ANSWER_SUFFIXES)]


def split_answer_column(name, codes):
    """(code, suffix) for an answer or detail column of one of `codes` (suffix "" for the answer
    itself), or None."""
    if name in codes:
        return name, ""
    for suffix in ANSWER_SUFFIXES:
        if name.endswith("_" + suffix) and name[: -len(suffix) - 1] in codes:
            return name[: -len(suffix) - 1], suffix
    return None


def requirement_ids_by_code(using=None):
    """{code: [requirement ids]} in program and list order (programs may share a code)."""
    requirements = Requirement.objects.using(using).order_by(
        "program__launched_on", "program_id", "order", "code"
    )
    by_code = {}
    for pk, code in requirements.values_list("id", "code"):
        by_code.setdefault(code, []).append(pk)
    return by_code


def requirement_codes():
    """Requirement codes in program and list order, each once."""
    return list(requirement_ids_by_code())


def csv_columns(codes=None):
    codes = requirement_codes() if codes is None else codes
    return [
        *JURISDICTION_COLUMNS,
        *ENROLLMENT_COLUMNS,
        *(column for code in codes for column in answer_columns(code)),
        *TAIL_COLUMNS,
    ]


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
