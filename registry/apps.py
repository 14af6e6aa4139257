from django.apps import AppConfig
from django.db.backends.signals import connection_created


def get_bit(bits: bytes | None, n: int) -> int | None:
    """PostgreSQL's get_bit(bytea, n), for SQLite: bit n % 8, from the least significant, of byte n // 8."""
    if bits is None or n is None:
        return None
    return (bits[n >> 3] >> (n & 7)) & 1


def give_sqlite_get_bit(sender, connection, **kwargs) -> None:
    """The registry's lookups test a bit of an exchange's row in SQL (models.RegistryExchange):
    SQLite gets the function PostgreSQL has."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("get_bit", 2, get_bit, deterministic=True)


class RegistryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "registry"
    verbose_name = "National Do-Not-Call Registry"

    def ready(self):
        connection_created.connect(give_sqlite_get_bit, dispatch_uid="registry.get_bit")
