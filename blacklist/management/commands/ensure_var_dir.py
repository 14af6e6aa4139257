"""Create VAR_DIR's folders and, in DEBUG without SECRET_KEY, the key file: `make run` and `make
serve` run this first, since importing the settings writes nothing."""

import os

from django.conf import settings
from django.core.management.base import BaseCommand

from blacklist_admin.env import make_var_dir, write_secret_key


class Command(BaseCommand):
    help = "Create VAR_DIR (static files, the embedded broker's folders) and, in DEBUG without SECRET_KEY, its key."

    def handle(self, *args, **options):
        make_var_dir(settings.VAR_DIR, embedded_broker=not settings.REDIS_URL)
        if settings.DEBUG and not os.environ.get("SECRET_KEY"):
            write_secret_key(settings.VAR_DIR)
