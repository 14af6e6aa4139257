"""An area code's registry numbers as one bitmap in memory (numpy): 10 million bits, 1,250,000
bytes, bit n for its number n (201-555-0123: bit 5,550,123), numbered as PostgreSQL's get_bit()
numbers them (models.RegistryExchange). A load builds the bitmaps of the area codes its file
covers, reads their stored rows, counts and writes back the exchanges that changed: work on whole
arrays, never a Python step per number."""

import numpy as np

from .models import AREA_SPAN, EXCHANGE_SPAN, EXCHANGES, RegistryExchange

AREA_BYTES = AREA_SPAN // 8
EXCHANGE_BYTES = EXCHANGE_SPAN // 8
_DIGIT_WEIGHTS = 10 ** np.arange(9, -1, -1, dtype=np.int64)


def empty() -> np.ndarray:
    return np.zeros(AREA_BYTES, np.uint8)


def plain_numbers(text: bytes) -> np.ndarray:
    """The numbers of lines of 10 digits and a "\\n" each (a formats.Block, checked already)."""
    digits = np.frombuffer(text, np.uint8).reshape(-1, 11)[:, :10]
    return (digits - ord("0")).astype(np.int64) @ _DIGIT_WEIGHTS


def set_bits(bits: np.ndarray, lines: np.ndarray) -> None:
    """Set the bits of these numbers of the area code (their last 7 digits)."""
    np.bitwise_or.at(bits, lines >> 3, np.left_shift(1, lines & 7).astype(np.uint8))


def clear_bits(bits: np.ndarray, lines: np.ndarray) -> None:
    np.bitwise_and.at(bits, lines >> 3, ~np.left_shift(1, lines & 7).astype(np.uint8))


def are_set(bits: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """Whether each of these numbers' bits is set, as booleans."""
    return ((bits[lines >> 3] >> (lines & 7).astype(np.uint8)) & 1).astype(bool)


def count(bits: np.ndarray) -> int:
    return int(np.bitwise_count(bits).sum(dtype=np.int64))


def stored(code: int) -> np.ndarray:
    """The area code's bitmap as stored (all clear when it has no row)."""
    bits = empty()
    for exchange, row in RegistryExchange.objects.of_area_code(code).values_list("exchange", "bits"):
        start = (exchange % EXCHANGES) * EXCHANGE_BYTES
        bits[start:start + EXCHANGE_BYTES] = np.frombuffer(row, np.uint8)
    return bits


def store(code: int, old: np.ndarray, new: np.ndarray) -> None:
    """Write the area code's exchanges whose bits differ from `old` (as stored): a row per exchange
    that lists a number, inserted or updated; the row of one that lists none any more deleted."""
    old_rows, new_rows = old.reshape(EXCHANGES, EXCHANGE_BYTES), new.reshape(EXCHANGES, EXCHANGE_BYTES)
    changed = np.flatnonzero((old_rows != new_rows).any(axis=1))
    listing = new_rows[changed].any(axis=1)
    first = code * EXCHANGES
    RegistryExchange.objects.bulk_create(
        [RegistryExchange(exchange=first + int(i), bits=new_rows[i].tobytes()) for i in changed[listing]],
        update_conflicts=True, unique_fields=["exchange"], update_fields=["bits"], batch_size=500)
    if len(gone := changed[~listing]):
        RegistryExchange.objects.filter(exchange__in=[first + int(i) for i in gone]).delete()


def numbers_of(exchange: int, row: bytes) -> list[int]:
    """The numbers an exchange's row lists, in order."""
    lines = np.flatnonzero(np.unpackbits(np.frombuffer(row, np.uint8), bitorder="little"))
    return (exchange * EXCHANGE_SPAN + lines).tolist()

