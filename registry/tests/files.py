"""Small registry files made for the tests, in each form the registry sends (docs/registry.md)."""

import io
import zipfile

LOCAL_START = 2_000_000  # local numbers start at 200-0000: a valid exchange


def numbers(code: int, count: int, start: int = 0) -> list[int]:
    """`count` numbers of area code `code`, from its `start`-th on."""
    return [code * 10**7 + LOCAL_START + start + i for i in range(count)]


def flat(values: list[int], comma: bool = False) -> bytes:
    """A full list, one number a line: `2015550123`, or `201,5550123` with `comma`."""
    return "".join(f"{str(n)[:3]},{str(n)[3:]}\n" if comma else f"{n}\n" for n in values).encode()


def changes(records: list[tuple[int, str]], us_dates: bool = False) -> bytes:
    """A change list: `number,A|D,date`."""
    day = "11/01/2026" if us_dates else "2026-11-01"
    return "".join(f"{n},{flag},{day}\n" for n, flag in records).encode()


def xml(values: list[int], flags: list[str] | None = None) -> bytes:
    """`<Record>`s with AreaCode and PhoneNumber (and ChangeType/ChangeDate with `flags`)."""
    records = []
    for i, n in enumerate(values):
        change = f"<ChangeType>{flags[i]}</ChangeType><ChangeDate>2026-11-01</ChangeDate>" if flags else ""
        records.append(f"<Record><AreaCode>{str(n)[:3]}</AreaCode><PhoneNumber>{str(n)[3:]}</PhoneNumber>{change}</Record>")
    return f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DNCRegistry>\n{chr(10).join(records)}\n</DNCRegistry>\n".encode()


def zipped(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            archive.writestr(name, content)
    return buffer.getvalue()
