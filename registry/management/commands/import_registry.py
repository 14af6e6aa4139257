"""Load a National Do-Not-Call Registry file in the foreground: the upload's rules and code path."""

import time
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.commands import acting_user
from registry import loads
from tasks_logs.models import TaskLog


class Command(BaseCommand):
    help = (
        "Load a National Do-Not-Call Registry file (flat text, change records or XML, ZIP-compressed or not;"
        " docs/registry.md): a full list replaces its area codes' numbers, a change list applies its adds and"
        " deletes. Recorded as a Tasks Logs entry."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the registry file as downloaded (.txt, .xml or .zip)")
        scope = parser.add_mutually_exclusive_group()
        scope.add_argument("--area-code", type=int, help="the file is this area code's (NNN): any other is refused")
        scope.add_argument("--state", help="the file is this state's (two letters): area codes elsewhere are refused")
        kind = parser.add_mutually_exclusive_group()
        kind.add_argument("--full", action="store_true", help="a full list (default: told by the file)")
        kind.add_argument("--changes", action="store_true", help="a change list (default: told by the file)")
        parser.add_argument("--data-date", type=_date, help="its data's date, YYYY-MM-DD (default: today)")
        parser.add_argument("--user", help="the username to record as the one who loaded it")

    def handle(self, *args, file: Path, area_code: int | None, state: str | None, full: bool, changes: bool,
               data_date: date | None, user: str | None, **options):
        account = acting_user(user)
        try:
            content = file.read_bytes()
        except OSError as error:
            raise CommandError(f"{file}: {error.strerror}.") from None
        try:
            task_log = loads.save_file(file.name, content, changes=True if changes else False if full else None,
                                       area_code=area_code, state=(state or "").upper(), data_date=data_date,
                                       user=account)
        except loads.Refused as refusal:
            raise CommandError(str(refusal)) from None
        self.stdout.write(f"{file.name}: {len(content):,} bytes (task {task_log.pk})")
        started = time.monotonic()
        try:
            task_log = loads.load(task_log)
        except Exception as error:
            raise CommandError(f"The load failed and changed nothing: {error}") from error
        if task_log.state != TaskLog.State.SUCCEEDED:
            raise CommandError(task_log.message)
        self.stdout.write(self.style.SUCCESS(f"{task_log.message} {loads.summary(task_log)}"
                                             f" Took {time.monotonic() - started:.1f} s."))
        if task_log.invalid:
            self.stdout.write(f"Unreadable lines: see Tasks Logs, task {task_log.pk}.")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date YYYY-MM-DD") from None
