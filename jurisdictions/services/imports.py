"""Admin CSV imports as jobs (models/imports.py): create, preview, confirm, apply.

Previewing and applying are `transfer.importer.import_jurisdictions`, the one write path of the
`import_jurisdictions` command too; a job only keeps the file and what the importer reported. A
file of more than ADMIN_IMPORT_INLINE_MAX_ROWS lines runs in the worker (jurisdictions/tasks.py),
so a large upload never holds a web worker; a small one runs in the request, through the same
functions. Each step claims the job with a conditional UPDATE, so a task run twice does nothing
the second time.
"""

import datetime
import hashlib
import json
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..models.imports import ImportJob
from ..transfer.importer import import_jurisdictions
from ..transfer.limits import MAX_ROWS

logger = logging.getLogger("jurisdictions")
State = ImportJob.State
SHOWN_ROWS = 1000  # rows and errors kept for the page; the counts cover the whole file
DATA_CHANGED = (
    "The data changed since the preview was made; nothing was imported. Check the new preview and "
    "confirm again."
)


CRASHED = "The import stopped on an unexpected error (logged for the developers); nothing was written."
WORKER_STOPPED = (
    "The worker stopped while working on this file (a restart?); nothing was written. Upload the file again."
)
# Longer than any preview or apply within the limits takes (200,000 rows: about a minute).
STALE_AFTER = datetime.timedelta(hours=1)


# What a step writes back: never `content`, which would rewrite the whole file each time.
RESULT_FIELDS = [
    f.name for f in ImportJob._meta.concrete_fields if f.name not in ("id", "content", "created_at")
]


class ImportJobError(Exception):
    """A confirm that cannot proceed; the message is for the page."""


def import_job_create(*, data, filename, user):
    """Keep the file and preview it: in the request when small, in the worker otherwise."""
    job = ImportJob(
        filename=filename[:255],
        content=data,
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=user,
        # Physical lines bound the rows from above (a quoted cell may hold a newline): counted in
        # C, before any parsing, so that the request never does a large file's work.
        in_worker=data.count(b"\n") > settings.ADMIN_IMPORT_INLINE_MAX_ROWS,
    )
    with transaction.atomic():
        job.save()
        if job.in_worker:
            # Enqueued in the job's transaction: the task exists exactly when the job does.
            from ..tasks import import_preview

            import_preview.enqueue(job.pk)
    if not job.in_worker:
        import_job_preview(job_id=job.pk)
    return _fresh(job.pk)


def import_job_preview(*, job_id):
    """Run the importer without writing and record its report (state previewed, or failed)."""
    if not _claim(job_id, State.QUEUED, state=State.PREVIEWING, preview_started_at=timezone.now()):
        return
    job = ImportJob.objects.get(pk=job_id)
    try:
        report = _run(job, commit=False)
        _record(job, report)
        job.state = State.PREVIEWED if report.ok else State.FAILED
        job.previewed_at = timezone.now()
        if not report.ok:
            job.finished_at = job.previewed_at
    except Exception:
        logger.exception("Import job %s: the preview failed.", job_id)
        _crash(job)
    job.save(update_fields=RESULT_FIELDS)


def import_job_confirm(*, job, user, fingerprint):
    """Start applying a previewed job: only its uploader may, and only the preview they saw."""
    if user != job.uploaded_by:
        raise ImportJobError("Only the person who uploaded this file may confirm it.")
    if job.state != State.PREVIEWED:
        raise ImportJobError(f"This import is {job.get_state_display().lower()}; it cannot be confirmed now.")
    if fingerprint != job.fingerprint:
        raise ImportJobError("The preview changed since you loaded the page; check it and confirm again.")
    now = timezone.now()
    with transaction.atomic():
        if not _claim(job.pk, State.PREVIEWED, state=State.APPLYING, confirmed_at=now, notice=""):
            raise ImportJobError("This import was confirmed already.")
        if job.in_worker:
            from ..tasks import import_apply

            import_apply.enqueue(job.pk)
    if not job.in_worker:
        import_job_apply(job_id=job.pk)
    return _fresh(job.pk)


def import_job_apply(*, job_id):
    """Preview again; when the result differs from what was confirmed, go back to previewed with
    the new preview. Otherwise write it (all rows or none, re-checked under the rows' locks)."""
    if not _claim(job_id, State.APPLYING, unstarted=True, apply_started_at=timezone.now()):
        return
    job = ImportJob.objects.get(pk=job_id)
    try:
        # The job's outcome commits with the rows it wrote: a worker that dies in between leaves
        # neither, and the job "applying" (import_jobs_recover then says so).
        with transaction.atomic():
            preview = _run(job, commit=False)
            if not preview.ok or _fingerprint(preview) != job.fingerprint:
                _record(job, preview)
                job.state = State.PREVIEWED if preview.ok else State.FAILED
                job.notice = DATA_CHANGED
                job.previewed_at = timezone.now()
                job.apply_started_at = None
                job.finished_at = None if preview.ok else job.previewed_at
            else:
                report = _run(job, commit=True)
                _record(job, report)
                job.state = State.DONE if report.applied else State.FAILED
                job.finished_at = timezone.now()
            job.save(update_fields=RESULT_FIELDS)
    except Exception:
        logger.exception("Import job %s: applying failed.", job_id)
        _crash(job)
        job.save(update_fields=RESULT_FIELDS)


def import_jobs_recover(*, now=None):
    """The worker's sweep: a job waiting for a task that was lost is queued again (the claims make
    a duplicate harmless); a job left half-way by a worker or a request that died (nothing was
    written: the apply is one transaction) is marked failed, to be uploaded again. Returns the
    number of jobs touched."""
    from ..tasks import import_apply, import_preview

    stale = (now or timezone.now()) - STALE_AFTER
    old = ImportJob.objects.filter(updated_at__lt=stale).defer("content")
    touched = 0
    for job in old.filter(in_worker=True, state=State.QUEUED):
        import_preview.enqueue(job.pk)
        touched += ImportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now())
    for job in old.filter(in_worker=True, state=State.APPLYING, apply_started_at=None):
        import_apply.enqueue(job.pk)
        touched += ImportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now())
    stopped = old.filter(Q(state=State.PREVIEWING) | Q(state=State.APPLYING, apply_started_at__isnull=False))
    for job in stopped:
        touched += _claim(
            job.pk,
            job.state,
            state=State.FAILED,
            errors=[[0, "", WORKER_STOPPED]],
            error_count=1,
            finished_at=timezone.now(),
        )
    return touched


def _fresh(pk):
    return ImportJob.objects.defer("content").get(pk=pk)


def _run(job, *, commit):
    # The worker's limit is the importer's own; the request's is the inline threshold.
    return import_jurisdictions(
        bytes(job.content), filename=job.filename, user=job.uploaded_by, commit=commit, max_rows=MAX_ROWS
    )


def _fingerprint(report):
    """What a preview promised, to notice when the database moved between preview and confirm."""
    rows = [[r.line, r.slug, r.program, r.action, sorted(r.changes)] for r in report.rows]
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def _record(job, report):
    job.row_count = len(report.rows) if report.ok else None
    job.counts = report.counts()
    job.rows = [[r.line, r.slug, r.program, r.action, sorted(r.changes)] for r in report.rows[:SHOWN_ROWS]]
    job.fingerprint = _fingerprint(report) if report.ok else ""
    job.errors = [[e.line, e.column, e.message] for e in report.errors[:SHOWN_ROWS]]
    job.error_count = len(report.errors)


def _crash(job):
    job.state = State.FAILED
    job.errors = [
        [0, "", "The import stopped on an unexpected error (logged for the developers); nothing was written."]
    ]
    job.error_count = 1
    job.finished_at = timezone.now()


def _claim(job_id, from_state, *, unstarted=False, **values):
    """Move the job on only from `from_state` (one UPDATE): a second run of the same task, or a
    second click, finds nothing to claim."""
    matching = ImportJob.objects.filter(pk=job_id, state=from_state)
    if unstarted:
        matching = matching.filter(apply_started_at=None)
    return matching.update(**values, updated_at=timezone.now()) == 1
