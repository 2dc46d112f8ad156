"""The partner API under /api/v1/: representations, viewsets, staff writes, pagination, URLs."""
