"""The one seam for database-specific speed: everything that checks the database vendor or
bypasses the ORM for speed lives in this package, each module saying what it buys."""
