from django import template
from django.conf import settings

from registry.models import AreaCode

register = template.Library()


@register.inclusion_tag("registry/_stale_banner.html", takes_context=True)
def stale_registry_banner(context):
    """Blacklists Management's warning when loaded area codes of the national registry are stale:
    one count over the area codes' few hundred rows (AreaCode.objects.freshness), nothing shown
    while the registry is empty or fresh."""
    return {"freshness": AreaCode.objects.freshness(), "stale_days": settings.REGISTRY_STALE_DAYS,
            "perms": context.get("perms")}
