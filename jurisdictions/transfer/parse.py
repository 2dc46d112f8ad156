"""Reading an import file: the CSV itself, then each row's cells checked one by one.

Values are checked by the models' own field validators and choices (`services.validation`), so a
value the admin or the API refuses is a row error here too, with the line and the column.
"""

import csv
import datetime
import io
from dataclasses import dataclass

from ..models import Requirement
from . import limits
from .format import FIXED_COLUMNS, FORMULA_PREFIXES, REQUIRED_COLUMNS, restore, split_answer_column

MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass
class RowError:
    line: int
    column: str
    message: str

    def __str__(self):
        where = f"line {self.line}" if self.line else "file"
        column = f", column {self.column}" if self.column else ""
        return f"{where}{column}: {self.message}"


def read_csv(data, report, max_rows=limits.MAX_ROWS):
    """(header, [(line, {column: cell})]) of a CSV file, or None when the file cannot be read;
    every problem goes to `report.errors`. At most `max_rows` rows are read (limits.py)."""
    if isinstance(data, bytes):
        if len(data) > MAX_FILE_BYTES:
            report.errors.append(
                RowError(0, "", f"The file is larger than {MAX_FILE_BYTES // 1024 // 1024} MB.")
            )
            return None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            report.errors.append(
                RowError(
                    0,
                    "",
                    f"The file is not UTF-8 text (byte {exc.start} cannot be read). Save it as CSV UTF-8.",
                )
            )
            return None
    else:
        text = data.removeprefix("\ufeff")
    if "\x00" in text:
        report.errors.append(RowError(0, "", "The file contains NUL bytes; it is not a CSV text file."))
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        report.errors.append(RowError(1, "", f"The header cannot be read as CSV: {exc}."))
        return None
    if not header or not any(h.strip() for h in header):
        report.errors.append(RowError(0, "", "The file is empty: the first line must name the columns."))
        return None
    header = [h.strip() for h in header]
    problems = limits.header_errors(header)  # width and repeats, before any per-column work
    if problems:
        report.errors.extend(RowError(1, column, message) for column, message in problems)
        return None
    codes = set(Requirement.objects.values_list("code", flat=True))
    for name in header:
        if name not in FIXED_COLUMNS and split_answer_column(name, codes) is None:
            report.errors.append(
                RowError(
                    1,
                    name,
                    "Unknown column: not a jurisdiction or enrollment field, nor a requirement code "
                    "(or one of its details, e.g. <code>_citation).",
                )
            )
    for name in REQUIRED_COLUMNS:
        if name not in header:
            report.errors.append(RowError(1, name, "This required column is missing."))
    if not report.ok:
        return None
    records = []
    line = 1
    # Only a cell that starts with an apostrophe before a formula character needs `restore`:
    # when the file holds no such pair, the rows skip that call for each of their cells.
    exported = any("'" + c in text for c in FORMULA_PREFIXES)
    try:
        for cells in reader:
            start = line + 1
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(records) >= max_rows:
                report.errors.append(RowError(start, "", limits.too_many_rows(len(records), max_rows)))
                break
            if len(cells) != len(header):
                report.errors.append(
                    RowError(start, "", f"Expected {len(header)} cells, found {len(cells)}.")
                )
                continue
            cells = map(str.strip, cells)
            if exported:
                cells = map(restore, cells)
            records.append((start, dict(zip(header, cells, strict=True))))
    except csv.Error as exc:
        report.errors.append(RowError(line + 1, "", f"This line cannot be read as CSV: {exc}."))
    if not records and report.ok:
        report.errors.append(RowError(0, "", "The file has a header but no rows."))
    return header, records


def parse_date(value):
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"“{value}” is not a date; write it as YYYY-MM-DD.") from None
