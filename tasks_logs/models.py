from django.conf import settings
from django.db import models
from django.db.models import Q


class TaskLog(models.Model):
    """One progress row per background job: what it is, who asked, how far it got, what it did."""

    class Kind(models.TextChoices):
        IMPORT = "import", "Import blacklist"
        BULK_APPROVE = "bulk_approve", "Bulk approve"
        BULK_APPROVE_PERMANENTLY = "bulk_approve_permanently", "Bulk approve permanently"
        BULK_UNAPPROVE = "bulk_unapprove", "Bulk unapprove"
        BULK_REMOVE = "bulk_remove", "Bulk remove"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

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
    # What the job was asked to do, e.g. a bulk action's action, tab and filter query string.
    params = models.JSONField(default=dict, blank=True)

    # Progress, then the result counts; what each count means depends on the kind of job.
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0, help_text="numbers added to the blacklist")
    raised = models.PositiveIntegerField(default=0, help_text="existing numbers whose status was raised")
    unchanged = models.PositiveIntegerField(default=0, help_text="already present, left as they were")
    duplicates = models.PositiveIntegerField(default=0, help_text="repeated within the same file")
    invalid = models.PositiveIntegerField(default=0, help_text="rows that are not valid phone numbers")
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

    @property
    def percent(self) -> int:
        if self.state == self.State.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, self.processed * 100 // self.total)

    @property
    def is_finished(self) -> bool:
        return self.state in {self.State.SUCCEEDED, self.State.FAILED}
