"""Issue 17: a large admin import is queued, not run in the request; the real worker (run-once mode
of `run_worker`, against the database queue) previews it, and applies it once confirmed, through
the same importer as the command. Runs on SQLite and on PostgreSQL (DATABASE_URL); the last test
runs the worker as a process of its own (PostgreSQL only, as tests/test_alerts_worker.py)."""

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from jurisdictions.models import Enrollment, ImportJob, Jurisdiction, StatusChange
from jurisdictions.services.imports import STALE_AFTER, WORKER_STOPPED, import_job_apply, import_job_preview
from tests.alerts_support import run_worker_once
from tests.factories import JurisdictionFactory, StaffUserFactory
from tests.test_admin_import import BAD_ANSWER, BAD_STATE, STOCKTON, counts, csv_file
from tests.test_alerts_worker import WorkerProcess, wait

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
URL = "admin:jurisdictions_jurisdiction_import"
MEMPHIS_NO_PROGRAM = ",Memphis,TN,city,4748000,,,,,,,,,,,,,,,"


@pytest.fixture
def reviewer(client, psp):
    user = StaffUserFactory(groups=["Reviewer"])
    client.force_login(user)
    client.user = user
    return client


def towns(count):
    """`count` new jurisdictions in Texas, each with a letter sent: one row each."""
    return [
        f",Town {n:04d},TX,city,,,psp,letter_sent,,2017-08-03,2017-08-18,,,,,,Seed,,," for n in range(count)
    ]


def upload(client, rows):
    response = client.post(reverse(URL), {"file": csv_file(*rows)})
    assert response.status_code == 302, response.content.decode()[:500]
    return client.get(response["Location"])


def confirm(client, job):
    job.refresh_from_db()
    return client.post(job.get_absolute_url(), {"confirm": "1", "fingerprint": job.fingerprint})


@pytest.fixture
def worker():
    if connection.vendor != "postgresql":
        pytest.skip("the worker process needs the PostgreSQL test database (tests/test_alerts_worker.py)")
    process = WorkerProcess()
    yield process
    process.stop()


def queued(task):
    return DBTaskResult.objects.filter(task_path=f"jurisdictions.tasks.{task}", status="READY").count()


def test_a_large_file_is_queued_previewed_by_the_worker_and_applied_after_confirm(reviewer, settings):
    rows = towns(settings.ADMIN_IMPORT_INLINE_MAX_ROWS + 50)  # the default threshold, exceeded
    response = upload(reviewer, rows)
    job = response.context["job"]
    assert (job.state, job.in_worker, job.row_count) == ("queued", True, None)
    content = response.content.decode()
    assert 'http-equiv="refresh"' in content
    assert "Waiting for the worker to preview it." in content
    assert queued("import_preview") == 1
    assert counts() == (0, 0, 0)

    run_worker_once()
    response = reviewer.get(job.get_absolute_url())
    job = response.context["job"]
    assert (job.state, job.row_count, job.counts) == (
        "previewed",
        len(rows),
        {"new": 350, "changed": 0, "unchanged": 0},
    )
    assert job.rows[0][:4] == [2, "town-0000-tx", "psp", "new"]
    assert "350 new, 0 changed, 0 unchanged. Nothing has been written yet." in response.content.decode()
    assert 'http-equiv="refresh"' not in response.content.decode()
    assert counts() == (0, 0, 0)

    response = confirm(reviewer, job)
    assert response["Location"] == job.get_absolute_url()  # not applied in the request
    content = reviewer.get(job.get_absolute_url()).content.decode()
    assert "Waiting for the worker to write it." in content and 'http-equiv="refresh"' in content
    assert queued("import_apply") == 1
    assert counts() == (0, 0, 0)

    run_worker_once()
    job.refresh_from_db()
    assert (job.state, job.counts) == ("done", {"new": 350, "changed": 0, "unchanged": 0})
    assert counts() == (350, 350, 350)
    assert set(StatusChange.objects.values_list("changed_by", "via")) == {(reviewer.user.pk, "import")}
    assert (
        "Imported: 350 new, 0 changed, 0 unchanged." in reviewer.get(job.get_absolute_url()).content.decode()
    )


def test_the_worker_names_each_bad_row_and_nothing_is_offered_for_confirmation(reviewer, settings):
    settings.ADMIN_IMPORT_INLINE_MAX_ROWS = 2
    job = upload(reviewer, [STOCKTON, BAD_STATE, BAD_ANSWER]).context["job"]
    assert job.state == "queued"
    run_worker_once()
    response = reviewer.get(job.get_absolute_url())
    job = response.context["job"]
    assert job.state == "failed"
    assert [(line, column) for line, column, _ in job.errors] == [(3, "state"), (4, "status")]
    content = response.content.decode()
    assert "Nothing was written: 2 errors, listed below." in content
    assert "“XX” is not a USPS state or territory code" in content
    assert 'name="confirm"' not in content
    assert counts() == (0, 0, 0)


def test_a_file_that_fails_half_way_under_the_worker_writes_nothing(reviewer, settings):
    settings.ADMIN_IMPORT_INLINE_MAX_ROWS = 1
    job = upload(reviewer, [STOCKTON, MEMPHIS_NO_PROGRAM]).context["job"]
    run_worker_once()
    job.refresh_from_db()
    assert job.state == "previewed"
    JurisdictionFactory(name="Elsewhere", state="TN", geoid="4748000")  # takes Memphis's GEOID meanwhile
    confirm(reviewer, job)
    run_worker_once()
    job.refresh_from_db()
    assert job.state == "failed"
    assert [(line, column) for line, column, _ in job.errors] == [(3, "geoid")]
    # Stockton's row was valid, and is not written either: all rows or none.
    assert not Jurisdiction.objects.filter(slug="stockton-ca").exists()
    assert counts() == (1, 0, 0)


def test_the_worker_refuses_to_apply_when_the_data_changed_since_the_preview(reviewer, settings):
    settings.ADMIN_IMPORT_INLINE_MAX_ROWS = 1
    job = upload(reviewer, [STOCKTON, MEMPHIS_NO_PROGRAM]).context["job"]
    run_worker_once()
    JurisdictionFactory(name="Stockton", state="CA", geoid="0675000")  # someone else, meanwhile
    confirm(reviewer, job)
    run_worker_once()
    response = reviewer.get(job.get_absolute_url())
    job = response.context["job"]
    assert (job.state, [row[3] for row in job.rows]) == ("previewed", ["changed", "new"])
    assert "The data changed since the preview was made; nothing was imported." in response.content.decode()
    assert Enrollment.objects.count() == 0
    confirm(reviewer, job)
    run_worker_once()
    job.refresh_from_db()
    assert job.state == "done"
    assert Enrollment.objects.get().jurisdiction.slug == "stockton-ca"


def test_a_task_that_runs_twice_does_its_work_once(reviewer, settings):
    settings.ADMIN_IMPORT_INLINE_MAX_ROWS = 0
    job = upload(reviewer, [STOCKTON]).context["job"]
    import_job_preview(job_id=job.pk)
    import_job_preview(job_id=job.pk)  # a second delivery of the same task
    confirm(reviewer, job)
    import_job_apply(job_id=job.pk)
    import_job_apply(job_id=job.pk)
    run_worker_once()  # the queued tasks find nothing left to do
    job.refresh_from_db()
    assert job.state == "done"
    assert counts() == (1, 1, 1)


def test_the_worker_process_previews_and_applies_what_the_web_side_stored(reviewer, worker, settings):
    """`manage.py run_worker` as its own process (compose's worker service): it reads the file from
    the database, as a worker container does (PostgreSQL: the processes share the test database)."""
    rows = towns(settings.ADMIN_IMPORT_INLINE_MAX_ROWS + 1)
    worker.start()
    job = upload(reviewer, rows).context["job"]
    assert wait(lambda: ImportJob.objects.get(pk=job.pk).state == "previewed")
    confirm(reviewer, job)
    assert wait(lambda: ImportJob.objects.get(pk=job.pk).state == "done")
    assert Jurisdiction.objects.filter(state="TX").count() == len(rows)


def test_the_sweep_requeues_a_job_whose_task_was_lost_and_fails_one_a_dead_worker_left(reviewer, settings):
    settings.ADMIN_IMPORT_INLINE_MAX_ROWS = 0
    lost = upload(reviewer, [STOCKTON]).context["job"]
    DBTaskResult.objects.all().delete()  # as if the queue lost the task
    half_done = {
        state: ImportJob.objects.create(
            filename=f"{state}.csv",
            content=b"",
            sha256="",
            uploaded_by=reviewer.user,
            in_worker=True,
            state=state,
            apply_started_at=timezone.now() if state == "applying" else None,
        )
        for state in ("previewing", "applying")
    }
    recent = ImportJob.objects.create(
        filename="now.csv", content=b"", sha256="", in_worker=True, state="previewing"
    )
    ImportJob.objects.exclude(pk=recent.pk).update(updated_at=timezone.now() - STALE_AFTER * 2)
    run_worker_once()  # its sweep, then the task it queued again
    lost.refresh_from_db()
    assert lost.state == "previewed"
    for job in half_done.values():
        job.refresh_from_db()
        assert (job.state, job.errors[0][2]) == ("failed", WORKER_STOPPED)
    recent.refresh_from_db()
    assert recent.state == "previewing"  # perhaps still at work
    response = reviewer.get(half_done["applying"].get_absolute_url())
    assert "The worker stopped while working on this file" in response.content.decode()
