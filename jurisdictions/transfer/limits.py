"""Bounds on the work one CSV file can cause, checked before any per-row or per-column work.

A file's cost must grow linearly with its size and stop at a stated limit: a header of 100,000
distinct column names once kept a worker busy ~70 s (a `header.count` per column, quadratic). Each
limit is refused with a message naming it (README "Importing and exporting CSV", docs/deploy.md).

- MAX_COLUMNS: the importer's columns are 12 fields, one per requirement code and 5 tail columns;
  200 leaves room for many programs' requirements and refuses a crafted header at once.
- MAX_CELL (in the importer, 10,000 characters, less where the model's field is shorter): a longer
  cell is a row error; Python's csv module refuses any field above 131,072 characters outright.
- MAX_ROWS: 200,000 rows (a national file is 90,000 jurisdictions), the same in the command and the
  admin's import page: the page hands a file of more than ADMIN_IMPORT_INLINE_MAX_ROWS lines to the
  worker (services/imports.py), so that an upload cannot hold a web worker (and the threads sharing
  its interpreter) for long.
"""

MAX_COLUMNS = 200
MAX_ROWS = 200_000


def header_errors(header):
    """(column, message) pairs for a header that is too wide or repeats a column; linear time."""
    if len(header) > MAX_COLUMNS:
        return [
            (
                "",
                f"The header has {len(header):,} columns; a file may have at most {MAX_COLUMNS} "
                "(the limit on columns).",
            )
        ]
    seen = set()
    for name in header:
        if name in seen:
            return [(name, "This column appears more than once.")]
        seen.add(name)
    return []


def too_many_rows(count, limit):
    return f"The file has more than {limit:,} rows (the limit on rows)."
