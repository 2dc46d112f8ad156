"""Data in and out: the CSV format, the importer's parse and plan, and the exports."""
