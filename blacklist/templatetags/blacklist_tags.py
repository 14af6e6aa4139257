from django import template

from blacklist.phones import format_phone

register = template.Library()


@register.filter
def count_label(count_and_exact: tuple[int, bool]) -> str:
    """(1234, True) → "1,234"; an estimate (2345678, False) → "~2.3M"."""
    count, exact = count_and_exact
    if exact:
        return f"{count:,}"
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")):
        if count >= size:
            return f"~{count / size:.1f}{suffix}"
    return f"~{count:,}"


@register.filter
def phone(e164: str) -> str:
    """A stored number written for people (phones.format_phone): `{{ number|phone }}`."""
    return format_phone(e164)
