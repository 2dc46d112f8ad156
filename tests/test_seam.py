"""Database-specific code lives in one package (issue 12): `jurisdictions/db/`."""

import re
from pathlib import Path

import jurisdictions

PACKAGE = Path(jurisdictions.__file__).parent
SEAM = PACKAGE / "db"
# What the check looks for: a vendor branch, raw `.extra()`, PostgreSQL COPY.
VENDOR_SPECIFIC = re.compile(r"connection\.vendor|\.extra\(|COPY ")


def test_only_the_db_package_checks_the_database_vendor_or_writes_with_copy():
    outside = [
        f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if SEAM not in path.parents
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if VENDOR_SPECIFIC.search(line)
    ]
    assert outside == []


def test_the_seam_package_is_where_the_vendor_checks_are():
    # The first test would pass vacuously if the pattern matched nothing anywhere.
    inside = [p for p in SEAM.rglob("*.py") if VENDOR_SPECIFIC.search(p.read_text(encoding="utf-8"))]
    assert {p.name for p in inside} >= {"bulk.py", "compiled.py", "indexes.py"}
