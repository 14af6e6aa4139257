"""Import a CSV file of numbers in the foreground: the upload form's rules and code path."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.commands import acting_user
from blacklist import csv_files, services
from blacklist.forms import RequestDetailsForm
from blacklist.models import Channel, DncList, Status


class Command(BaseCommand):
    help = (
        "Import phone numbers from a CSV file (one column) into the blacklist, as the upload form does,"
        " recording a Tasks Logs entry. Numbers are added for review unless --approve or --permanent."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="a .csv or .txt file with one column of phone numbers")
        status = parser.add_mutually_exclusive_group()
        status.add_argument("--approve", action="store_true", help="mark all numbers as approved")
        status.add_argument("--permanent", action="store_true", help="mark all numbers as approved permanently")
        parser.add_argument("--user", help="the username to record as the one who added them (and whose role decides"
                                           " whether prefix rows such as +1201* may be added; without --user they may)")
        parser.add_argument("--list", dest="list_name", help="the name of the list to add them to (default: Internal)")
        request = parser.add_argument_group("the request, for every number of the file (docs/compliance.md)")
        request.add_argument("--reason", help="a reason's slug or name (default: consumer_request)")
        request.add_argument("--channel", help="how the requests came (default: upload)")
        request.add_argument("--received", help="when they arrived, ISO 8601 (default: when imported)")
        request.add_argument("--note", help="up to 500 characters")
        request.add_argument("--expires", help="when they expire, ISO 8601 (expirable reasons only)")

    def handle(self, *args, file: Path, approve: bool, permanent: bool, user: str | None, list_name: str | None,
               **options):
        account = acting_user(user)
        dnc_list = self._list(list_name)
        status = Status.PERMANENT if permanent else Status.APPROVED if approve else Status.REVIEW
        details = RequestDetailsForm(
            {"reason": options["reason"], "channel": options["channel"], "received_at": options["received"],
             "note": options["note"], "expires_at": options["expires"]},
            channel=Channel.UPLOAD, status=status,
        )
        if not details.is_valid():
            raise CommandError(" ".join(details.detail_errors()) + " Nothing was stored.")
        try:
            with file.open("rb") as stream:
                csv_file = csv_files.read_csv(file.name, stream)
        except OSError as error:
            raise CommandError(f"{file}: {error.strerror}.") from None
        except csv_files.BadFile as error:
            raise CommandError(f"{file}: {error.message} Nothing was stored.") from None
        task_log = services.save_upload(csv_file, status, account, details=details.details(), dnc_list=dnc_list)
        self.stdout.write(
            f"{csv_file.name}: {csv_file.rows:,} rows, adding them {services.ADDED_AS[status]}"
            f" to the list “{dnc_list.name if dnc_list else DncList.INTERNAL_NAME}” (task {task_log.pk})"
        )
        try:
            task_log = services.import_numbers(task_log, on_progress=self._progress_bar())
        except Exception as error:
            raise CommandError(f"The import failed and added nothing: {error}") from error
        finally:
            if self.stdout.isatty():
                self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(task_log.import_summary()))
        if task_log.invalid:
            self.stdout.write(f"Rejected rows: see Tasks Logs, task {task_log.pk}.")

    def _list(self, name: str | None) -> DncList | None:
        """The list named (any case), if it takes new numbers; None (Internal) when none is named."""
        if name is None:
            return None
        dnc_list = DncList.objects.filter(name__iexact=name.strip()).first()
        if dnc_list is None:
            known = ", ".join(DncList.objects.filter(archived_at=None).values_list("name", flat=True))
            raise CommandError(f"There is no list {name!r}. The lists that take numbers: {known}. Nothing was stored.")
        try:
            return services.refuse_archived(dnc_list)
        except services.ArchivedList as error:
            raise CommandError(f"{error} Nothing was stored.") from None

    def _progress_bar(self):
        """A progress bar redrawn in place on a terminal; nothing when the output is a file or pipe."""
        if not self.stdout.isatty():
            return None

        def draw(done: int, total: int) -> None:
            filled = 30 * done // max(total, 1)
            self.stdout.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done:,}/{total:,}", ending="")
            self.stdout.flush()

        return draw
