"""Paging through the list tabs as a user does, over numbers made by every write path: clicking
the Next and Previous links each page offers (never cursors built here) reaches every row of
the tab exactly once, in the order chosen, and walks back the same way."""

from collections import Counter
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from django.urls import reverse

from blacklist.models import TABS, BlacklistedNumber

pytestmark = pytest.mark.worker

PER_PAGE = 25  # the smallest page size the tabs offer, so the ~150 rows of a tab make 6 or 7 pages


class _Page(HTMLParser):
    """What a tab page offers: the numbers in its table body, its sort links (the column headers)
    and its Next/Previous links (a link without href is a disabled button, not a link)."""

    def __init__(self, html: str):
        super().__init__()
        self.phones, self.sort_links, self.links = [], {}, {}
        self._in = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("thead", "tbody"):
            self._in = tag
        elif tag == "a" and self._in == "thead" and "sort=" in attrs.get("href", ""):
            self.sort_links[parse_qs(urlsplit(attrs["href"]).query)["sort"][0].lstrip("-")] = attrs["href"]
        elif tag == "a" and self._in == "tbody" and "title" in attrs:
            self.phones.append(attrs["title"])  # the number's link to its history
        elif tag == "a" and attrs.get("rel") in ("next", "prev") and attrs.get("href"):
            self.links[attrs["rel"]] = attrs["href"]

    def handle_endtag(self, tag):
        if tag in ("thead", "tbody"):
            self._in = None


def open_page(client, url: str) -> _Page:
    response = client.get(url)
    assert response.status_code == 200, url
    return _Page(response.content.decode())


def walk(client, url: str, rel: str, limit: int) -> tuple[list[list[str]], str]:
    """Follow the `rel` link from `url` until the page offers none: each page's numbers, and the last URL."""
    pages = []
    while True:
        page = open_page(client, url)
        pages.append(page.phones)
        if rel not in page.links or len(pages) > limit:
            return pages, url
        url = urljoin(url, page.links[rel])


def sorts_offered(client, tab: str) -> dict[str, str]:
    """Each order the table offers → its URL: the default, then every column header clicked once
    (one direction) and clicked again on that page (the other)."""
    first = reverse(f"blacklist:{tab}")
    offered = {"default": first}
    for field, href in open_page(client, first).sort_links.items():
        once = urljoin(first, href)
        twice = urljoin(once, open_page(client, once).sort_links[field])
        for url in (once, twice):
            offered[parse_qs(urlsplit(url).query)["sort"][0]] = url
    return offered


def problems_paging(client, tab: str, sort: str, url: str) -> list[str]:
    numbers = BlacklistedNumber.objects.for_tab(tab)
    listed = set(numbers.values_list("phone", flat=True))
    limit = len(listed) // PER_PAGE + 3  # a walk that goes round in circles stops here
    forward, last_url = walk(client, url, "next", limit)
    backward, _ = walk(client, last_url, "prev", limit)
    seen = Counter(phone for page in forward for phone in page)
    field = "added_at" if sort == "default" else sort.lstrip("-")
    values = dict(numbers.values_list("phone", field))
    order = [values.get(phone) for page in forward for phone in page]
    problems = []
    if set(seen) != listed or set(seen.values()) != {1}:
        problems.append(f"{len(listed)} numbers on the tab, {len(seen)} reached, "
                        f"{sum(n > 1 for n in seen.values())} more than once, {len(listed - set(seen))} never")
    if order != sorted(order, reverse=sort.startswith("-") or sort == "default"):
        problems.append("the pages are not in the order chosen")
    if [len(page) for page in forward[:-1]] != [PER_PAGE] * (len(forward) - 1) or not forward[-1]:
        problems.append(f"page sizes {[len(page) for page in forward]}: a short page before the last, or an empty one")
    if backward != forward[::-1]:
        problems.append(f"Previous from the last page shows {[len(page) for page in backward]} rows a page,"
                        f" Next showed {[len(page) for page in forward]}")
    return [f"{tab} sorted by {sort}: {problem}" for problem in problems]


def test_next_reaches_every_number_once_and_previous_walks_back_on_every_tab_and_sort(
    admin_client, numbers_made_by_every_path
):
    walked = {tab: sorts_offered(admin_client, tab) for tab in TABS}
    approved_sorts = ["-added_at", "-phone", "-status_changed_at", "added_at", "default", "phone", "status_changed_at"]
    assert {tab: sorted(sorts) for tab, sorts in walked.items()} == {
        "review": sorted([*approved_sorts, "deadline", "-deadline"]),  # the review tab also by deadline
        "approved": approved_sorts,
    }
    assert [BlacklistedNumber.objects.for_tab(tab).count() > 5 * PER_PAGE for tab in TABS] == [True, True]
    problems = [
        problem for tab, sorts in walked.items() for sort, url in sorts.items()
        for problem in problems_paging(admin_client, tab, sort, url)
    ]
    assert problems == [], "\n".join(problems)
