"""The list tabs' selection and bulk bar as the server renders them: a scope wider than the ticked rows
is confirmed first, with or without scripts; labels name each row's number; sorted headers say their
order; missing pages are text; empty tabs say what to do next."""

import re

import pytest
from django.urls import reverse

from blacklist.models import BlacklistedNumber, Status

pytestmark = pytest.mark.django_db


def fill(count, status):
    BlacklistedNumber.objects.bulk_create(
        BlacklistedNumber(phone=f"+1415555{i:04d}", status=status) for i in range(count)
    )
    return list(BlacklistedNumber.objects.order_by("phone"))


def bulk(client, tab, **data):
    return client.post(reverse("blacklist:bulk_action", args=[tab]), data)


def test_a_page_scope_over_two_ticked_rows_asks_first_and_says_how_many_it_takes(admin_client):
    numbers = fill(5, Status.REVIEW)
    ticked, page = [numbers[0].pk, numbers[1].pk], [number.pk for number in numbers]

    response = bulk(admin_client, "review", action="approve", scope="page", ids=ticked, page_ids=page)

    text = response.content.decode()
    assert response.status_code == 200
    assert "You ticked 2 numbers; this acts on all 5 on this page." in text
    assert "Yes, approve 5 numbers" in text and "btn btn-primary" in text  # harmless: not red
    assert BlacklistedNumber.objects.filter(status=Status.REVIEW).count() == 5

    bulk(admin_client, "review", action="approve", scope="page", ids=ticked, page_ids=page, confirmed="on")
    assert BlacklistedNumber.objects.filter(status=Status.APPROVED).count() == 5


def test_an_all_matching_scope_over_ticked_rows_says_it_acts_on_every_match(admin_client):
    numbers = fill(30, Status.APPROVED)

    response = bulk(admin_client, "approved", action="unapprove", scope="all", ids=[numbers[0].pk], query="")

    assert "You ticked 1 number; this acts on all 30 matching the filter." in response.content.decode()
    assert BlacklistedNumber.objects.filter(status=Status.APPROVED).count() == 30


def test_the_ticked_rows_alone_run_without_asking(admin_client):
    numbers = fill(3, Status.REVIEW)

    response = bulk(admin_client, "review", action="approve", scope="selected", ids=[numbers[0].pk])

    assert response.status_code == 302
    assert BlacklistedNumber.objects.filter(status=Status.APPROVED).count() == 1


def test_a_page_scope_with_every_row_ticked_runs_without_asking(admin_client):
    numbers = [number.pk for number in fill(3, Status.REVIEW)]

    response = bulk(admin_client, "review", action="approve", scope="page", ids=numbers, page_ids=numbers)

    assert response.status_code == 302
    assert BlacklistedNumber.objects.filter(status=Status.APPROVED).count() == 3


def test_the_remove_question_names_one_number_as_the_table_shows_it(admin_client, make_numbers):
    (number,) = make_numbers(Status.APPROVED, reason="other")

    text = bulk(admin_client, "approved", action="remove", scope="selected", ids=[number.pk]).content.decode()

    assert (f'Remove <span class="phone" title="+14155550100">{number.display_phone}</span> from the blacklist?'
            f" They can be called again.") in text
    assert "Yes, remove 1 number" in text and "btn btn-danger" in text
    assert "delete" not in text.lower().replace("delete_", "")


def test_each_row_checkbox_and_the_header_checkbox_are_labelled(admin_client, make_numbers):
    first, second = make_numbers(Status.REVIEW, Status.REVIEW)

    text = admin_client.get(reverse("blacklist:review")).content.decode()

    assert f'aria-label="Select {first.display_phone}"' in text and f'aria-label="Select {second.display_phone}"' in text
    assert 'aria-label="Select all on this page"' in text
    assert f'aria-label="More actions for {first.display_phone}"' in text
    headers = re.findall(r"<th[^>]*>(.*?)</th>", text, re.S)
    assert all(re.sub(r"<[^>]+>", "", header).strip() for header in headers)  # no empty header


def test_the_bulk_bar_comes_before_the_table_inside_the_skip_target(admin_client, make_numbers):
    make_numbers(Status.REVIEW)

    text = admin_client.get(reverse("blacklist:review")).content.decode()

    assert text.index('id="numbers"') < text.index('id="bulk-action"') < text.index("<table")


@pytest.mark.parametrize("sort, expected", [("phone", "ascending"), ("-phone", "descending")])
def test_the_sorted_header_says_its_order(admin_client, make_numbers, sort, expected):
    make_numbers(Status.REVIEW, Status.REVIEW)

    text = admin_client.get(reverse("blacklist:review"), {"sort": sort}).content.decode()

    assert re.findall(r'aria-sort="(\w+)"', text) == [expected]


def test_missing_pages_are_plain_text_and_present_ones_links(admin_client):
    fill(30, Status.REVIEW)

    text = admin_client.get(reverse("blacklist:review")).content.decode()

    assert '<span class="btn btn-sm page-off">First</span>' in text
    assert '<span class="btn btn-sm page-off">&lsaquo; Previous</span>' in text
    assert re.search(r'<a class="btn btn-sm btn-outline-secondary" href="[^"]+" rel="next">Next', text)
    assert 'aria-disabled' not in text


def test_an_empty_review_tab_points_to_the_add_tab(admin_client):
    text = admin_client.get(reverse("blacklist:review")).content.decode()

    assert "Nothing to review." in text
    assert f'<a href="{reverse("blacklist:add")}">Upload a file or add numbers by hand</a>' in text
    assert 'id="bulk-action"' not in text and "<table" not in text


def test_an_empty_tab_offers_adding_only_to_who_may_add(client, make_user):
    client.force_login(make_user("Viewer"))

    review = client.get(reverse("blacklist:review")).content.decode()
    approved = client.get(reverse("blacklist:approved")).content.decode()

    assert "Nothing to review." in review and "Upload a file" not in review
    assert "No approved numbers yet." in approved and reverse("blacklist:add") not in approved


def test_a_filter_matching_nothing_says_so_with_a_reset_link(admin_client, make_numbers):
    make_numbers(Status.REVIEW)

    text = admin_client.get(reverse("blacklist:review"), {"phone": "+1999"}).content.decode()

    assert f'No numbers match the filter. <a href="{reverse("blacklist:review")}">Reset</a>' in text


def test_the_result_of_an_action_is_shown_in_the_bulk_bar(admin_client, make_numbers):
    (number,) = make_numbers(Status.REVIEW, Status.REVIEW)[:1]

    response = bulk(admin_client, "review", action="approve", scope="selected", ids=[number.pk])
    text = admin_client.get(response["Location"]).content.decode()

    bar = text[text.index('class="bulk-bar"'):text.index("<table")]
    assert "Approved 1 number." in bar and text.count("Approved 1 number.") == 1
