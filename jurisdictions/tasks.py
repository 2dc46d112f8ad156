"""The worker's tasks for jurisdictions: previewing and applying a large admin import.

Each takes the job's id (task arguments are JSON) and is a nudge: the job row holds the state, and
the services claim it, so a task run twice does its work once (services/imports.py).
"""

from django_tasks import task


@task()
def import_preview(job_id):
    from .services.imports import import_job_preview

    import_job_preview(job_id=job_id)


@task()
def import_apply(job_id):
    from .services.imports import import_job_apply

    import_job_apply(job_id=job_id)
