from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from blacklist.actions import enum_members


class TaskLog(models.Model):
    """One progress row per background job: what it is, who asked, how far it got, what it did."""

    # An upload's import, a national registry file's load (registry.loads), then one kind per
    # action's background job (BULK_APPROVE, …), each declared with its action in
    # blacklist/actions.py. Stored values: see that module.
    Kind = models.TextChoices(  # type: ignore[call-overload]  # django-stubs types the one-string form only
        "Kind", [("IMPORT", ("import", "Import blacklist")), ("REGISTRY_LOAD", ("registry_load", "Load registry file")),
                 *enum_members("task_kind")],
        module=__name__, qualname="TaskLog.Kind",
    )

    class State(models.TextChoices):
        # Stored, not queued: an upload into "approved permanently" waits for its uploader's
        # "Yes" (blacklist.views.confirm_upload); no worker or sweep picks it up meanwhile.
        AWAITING = "awaiting", "Awaiting confirmation"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    FINISHED = (State.SUCCEEDED, State.FAILED)  # never run again (jobs.claim and jobs.fail refuse them)

    kind = models.CharField(max_length=32, choices=Kind)
    state = models.CharField(max_length=16, choices=State, default=State.QUEUED)
    file_name = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)
    # Written with every progress step: a job whose row stops moving is found by the stale sweep.
    updated_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="runs started (a crashed run is retried)")
    # What the job was asked to do, e.g. a bulk action's action, tab and filter query string.
    params = models.JSONField(default=dict, blank=True)

    class Phase(models.TextChoices):
        READING = "reading", "Reading the file"
        CHECKING = "checking", "Checking numbers"
        MERGING = "merging", "Merging into the list"
        CHANGING = "changing", "Changing the numbers"

    # Progress, then the result counts; what each count means depends on the kind of job.
    # `processed` of `total` counts the phase's steps: rows checked, then rows merged.
    phase = models.CharField(max_length=16, choices=Phase, blank=True)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0, help_text="numbers added to the blacklist")
    raised = models.PositiveIntegerField(default=0, help_text="existing numbers whose status was raised")
    unchanged = models.PositiveIntegerField(default=0, help_text="already present, left as they were")
    duplicates = models.PositiveIntegerField(default=0, help_text="repeated within the same file")
    invalid = models.PositiveIntegerField(default=0, help_text="rows that are not valid phone numbers")
    deleted = models.PositiveIntegerField(default=0, help_text="registry numbers a registry load deleted")
    changed = models.PositiveIntegerField(default=0, help_text="numbers a bulk action changed")
    skipped = models.PositiveIntegerField(default=0, help_text="numbers a bulk action left alone")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Tasks Logs page: newest first.
            models.Index(fields=["-created_at", "-id"], name="tasklog_newest_first"),
            # The live-progress poll and the stale-job sweep: jobs not finished yet.
            models.Index(
                fields=["state"], name="tasklog_unfinished", condition=Q(state__in=["queued", "running"])
            ),
        ]

    def __str__(self):
        name = f" {self.file_name}" if self.file_name else ""
        return f"{self.get_kind_display()}{name} ({self.get_state_display().lower()})"

    # Where each phase of an import starts and ends on its progress bar: checking is the Python
    # work per row, merging the database's (bench/bench_import.py: about two to one at 50,000 rows).
    PHASE_SPAN: dict[str, tuple[int, int]] = {
        Phase.READING: (0, 0), Phase.CHECKING: (0, 65), Phase.MERGING: (65, 100), Phase.CHANGING: (0, 100),
    }

    @property
    def percent(self) -> int:
        if self.state == self.State.SUCCEEDED:
            return 100
        done, total = self.processed, self.total
        if self.phase == self.Phase.MERGING:  # counted beside the merge's locked row; SQLite: none
            merged = getattr(self, "merge_progress", None)
            done, total = (merged.merged, merged.total) if merged else (0, 0)
        start, end = self.PHASE_SPAN.get(self.phase, (0, 100))
        if not total:
            return start
        return start + (end - start) * min(done, total) // total

    def phase_text(self) -> str:
        """What a running job is doing, for people: "Checking numbers · 60%"."""
        if self.state != self.State.RUNNING or not self.phase:
            return ""
        return f"{self.get_phase_display()} · {self.percent}%"

    @property
    def is_finished(self) -> bool:
        return self.state in self.FINISHED

    @property
    def duration(self):
        """Time from start to finish, or so far while running; None before it starts."""
        if not self.started_at:
            return None
        return (self.finished_at or timezone.now()) - self.started_at

    def import_summary(self) -> str:
        """The counts of an import in one line, as the page and the command print them."""
        return (
            f"{self.total:,} rows: {self.new:,} new, {self.raised:,} raised, {self.unchanged:,} already listed"
            f" unchanged, {self.duplicates:,} duplicates within the file, {self.invalid:,} invalid."
        )


class Upload(models.Model):
    """The file an import job reads, kept in the database: web and workers may run on different
    machines, so a worker never reads the web server's disk. Stored decoded, as checked."""

    task_log = models.OneToOneField(TaskLog, primary_key=True, on_delete=models.CASCADE, related_name="upload")
    content = models.TextField()
    encoding = models.CharField(max_length=32, help_text="the encoding the file was read in")
    size = models.PositiveIntegerField(help_text="bytes as uploaded")

    def __str__(self):
        return f"the file of task {self.task_log_id}"


class MergeProgress(models.Model):
    """How far an import's merge got, in rows. The merge holds its TaskLog row locked until it
    commits (jobs.locked), so its progress goes here, written by a connection of its own
    (PostgreSQL; jobs.merge_reporter) that the page can read while the merge runs."""

    # No foreign key constraint: checking one would wait for the TaskLog row the merge holds locked.
    task_log = models.OneToOneField(TaskLog, primary_key=True, on_delete=models.CASCADE, db_constraint=False,
                                    related_name="merge_progress")
    merged = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.merged} of {self.total} merged (task {self.task_log_id})"


class RejectedRow(models.Model):
    """A row of an uploaded file that was not imported, with why; downloadable from the task's page."""

    # No index of its own: the (task_log, line) index below serves the lookups by task.
    task_log = models.ForeignKey(TaskLog, on_delete=models.CASCADE, related_name="rejected_rows", db_index=False)
    line = models.PositiveIntegerField()
    value = models.CharField(max_length=100, help_text="the raw value, cut to 100 characters")
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["line"]
        indexes = [
            # The task page and its CSV download: WHERE task_log_id = ? ORDER BY line.
            models.Index(fields=["task_log", "line"], name="rejectedrow_by_task_line"),
        ]

    def __str__(self):
        return f"line {self.line}: {self.reason}"
