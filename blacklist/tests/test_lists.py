"""The DNC lists in the web app (blacklist/lists.py, docs/lists.md): the Lists page (add, rename,
archive, unarchive, delete a never-used list; Internal kept as it is; every refusal changes
nothing), and the list picker of Blacklists Management: tabs, counts, pages, filters, export and
bulk actions within the chosen list, or every list."""

import csv
import html
import io
import logging
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.events import Source
from audit.models import Event
from blacklist import services, views
from blacklist.models import BlacklistedNumber, DncList, Status, internal_list_id
from blacklist.request_details import RequestDetails
from tasks_logs.models import TaskLog

pytestmark = pytest.mark.django_db
WHEN = Source(Event.Via.HAND)


@pytest.fixture
def manager(client, make_user):
    user = make_user("Manager")
    client.force_login(user)
    return user


@pytest.fixture
def internal(db):
    return DncList.objects.get(pk=internal_list_id())


def make_list(name, **fields) -> DncList:
    return DncList.objects.create(name=name, **fields)


def put(dnc_list, phones, status=Status.REVIEW, user=None, **details):
    """Numbers onto a list through the one service every path uses; any reason but the retained default."""
    from blacklist.models import Reason

    reason = Reason.objects.get(slug="other")
    services.add_numbers(phones, status, user, source=WHEN, dnc_list=dnc_list,
                         details=RequestDetails(reason=reason, **details))


def phones(start, count, area="415"):
    return [f"+1{area}555{start + i:04d}" for i in range(count)]


def text(response) -> str:
    return html.unescape(response.content.decode())


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def lists_now() -> list[tuple]:
    return list(DncList.objects.values_list("name", "description", "kind", "archived_at"))


# The Lists page


def test_a_manager_adds_a_list_on_the_lists_page(client, manager, internal):
    response = client.post(reverse("blacklist:lists"), {"new-name": "  Campaign:   Solar West ",
                                                         "new-description": "Door-to-door, west region"},
                           follow=True)

    assert messages_of(response) == ["Added the list “Campaign: Solar West”."]
    made = DncList.objects.get(name="Campaign: Solar West")
    assert (made.kind, made.description, made.created_by, made.archived_at) == (
        DncList.Kind.NAMED, "Door-to-door, west region", manager, None)
    page = text(response)
    assert f'href="{reverse("blacklist:lists")}">Lists</a>' in page  # in the menu
    row = page[page.index(f'id="list-{made.pk}"'):]
    assert "Named list" in row and 'class="list-state">active' in row
    assert re.search(r'list-count"><a [^>]*>0</a>', row)


@pytest.mark.parametrize("name, error", [
    ("client: ACME", "There is already a list named “client: ACME”."),
    ("internal", "There is already a list named “internal”."),
    ("   ", "Give the list a name."),
    ("x" * 81, "Ensure this value has at most 80 characters (it has 81)."),
])
def test_a_taken_or_bad_name_is_a_form_error_and_adds_nothing(client, manager, internal, name, error):
    make_list("Client: Acme")
    before = lists_now()

    response = client.post(reverse("blacklist:lists"), {"new-name": name, "new-description": "again"})

    assert response.status_code == 400
    assert messages_of(response) == ["The list was not added: see below."]
    assert error in text(response)
    assert lists_now() == before


def test_a_list_is_renamed_and_described_with_a_message_and_a_log_line(client, manager, caplog):
    acme = make_list("Client: Acme")
    with caplog.at_level(logging.INFO, logger="blacklist.lists"):
        response = client.post(reverse("blacklist:edit_list", args=[acme.pk]),
                               {f"l{acme.pk}-name": "Client: Acme Corp", f"l{acme.pk}-description": "Since 2026"},
                               follow=True)

    assert messages_of(response) == ["Saved the list “Client: Acme Corp” (was “Client: Acme”)."]
    acme.refresh_from_db()
    assert (acme.name, acme.description) == ("Client: Acme Corp", "Since 2026")
    assert "manager edited the list" in caplog.text and "renamed from “Client: Acme”" in caplog.text
    same = client.post(reverse("blacklist:edit_list", args=[acme.pk]),
                       {f"l{acme.pk}-name": "Client: Acme Corp", f"l{acme.pk}-description": "Since 2026"}, follow=True)
    assert messages_of(same) == ["“Client: Acme Corp” was already so: nothing changed."]


def test_renaming_to_a_name_taken_in_another_case_changes_nothing(client, manager):
    make_list("Client: Acme")
    solar = make_list("Solar", description="old")
    before = lists_now()

    response = client.post(reverse("blacklist:edit_list", args=[solar.pk]),
                           {f"l{solar.pk}-name": "CLIENT: acme", f"l{solar.pk}-description": "new"})

    assert response.status_code == 400
    assert "There is already a list named “CLIENT: acme”." in text(response)
    assert lists_now() == before


def test_internal_keeps_its_name_but_its_description_may_change(client, manager, internal):
    refused = client.post(reverse("blacklist:edit_list", args=[internal.pk]),
                          {f"l{internal.pk}-name": "Everything", f"l{internal.pk}-description": "changed too"})
    assert refused.status_code == 400
    assert "The built-in list “Internal” cannot be renamed." in text(refused)
    internal.refresh_from_db()
    assert (internal.name, internal.description) != ("Everything", "changed too")
    assert internal.name == "Internal" and internal.description != "changed too"  # not half-changed

    described = client.post(reverse("blacklist:edit_list", args=[internal.pk]),
                            {f"l{internal.pk}-name": "Internal", f"l{internal.pk}-description": "The default"})
    assert described.status_code == 302
    internal.refresh_from_db()
    assert (internal.name, internal.description) == ("Internal", "The default")


def test_archived_lists_take_no_numbers_keep_theirs_and_come_back(client, manager, caplog):
    solar = make_list("Solar")
    put(solar, phones(100, 3))
    with caplog.at_level(logging.INFO, logger="blacklist.lists"):
        archived = client.post(reverse("blacklist:archive_list", args=[solar.pk]), follow=True)

    assert messages_of(archived) == ["Archived the list “Solar”: it takes no new numbers and still blocks."]
    solar.refresh_from_db()
    assert solar.is_archived and "manager archived the list" in caplog.text
    assert 'archived</span>' in text(archived)[text(archived).index(f'id="list-{solar.pk}"'):]
    with pytest.raises(services.ArchivedList):
        put(solar, phones(200, 1))
    assert BlacklistedNumber.objects.in_list(solar).count() == 3
    again = client.post(reverse("blacklist:archive_list", args=[solar.pk]), follow=True)
    assert messages_of(again) == ["“Solar” was archived already: nothing changed."]

    back = client.post(reverse("blacklist:unarchive_list", args=[solar.pk]), follow=True)
    assert messages_of(back) == ["“Solar” is no longer archived: it takes numbers again."]
    solar.refresh_from_db()
    assert not solar.is_archived
    put(solar, phones(200, 1))
    assert BlacklistedNumber.objects.in_list(solar).count() == 4


def test_internal_is_never_archived_nor_deleted(client, manager, internal):
    before = lists_now()
    archived = client.post(reverse("blacklist:archive_list", args=[internal.pk]), follow=True)
    deleted = client.post(reverse("blacklist:delete_list", args=[internal.pk]), follow=True)

    assert messages_of(archived) == ["The built-in list “Internal” cannot be archived. Nothing was changed."]
    assert messages_of(deleted) == ["The built-in list “Internal” cannot be deleted. Nothing was changed."]
    assert lists_now() == before
    row = text(archived)[text(archived).index(f'id="list-{internal.pk}"'):].split("</tr>")[0]
    assert "Archive" not in row and "Delete" not in row  # not offered either


def test_a_list_that_never_held_a_number_is_deleted(client, manager):
    typo = make_list("Solar Wset")
    response = client.post(reverse("blacklist:delete_list", args=[typo.pk]), follow=True)
    assert messages_of(response) == ["Deleted the list “Solar Wset”."]
    assert not DncList.objects.filter(pk=typo.pk).exists()


@pytest.mark.parametrize("then_removed", [False, True])
def test_a_list_that_holds_or_held_numbers_is_only_archived(client, manager, then_removed):
    solar = make_list("Solar")
    put(solar, phones(100, 2))
    if then_removed:  # no entries left, but its events name it
        services.remove(BlacklistedNumber.objects.in_list(solar), manager, WHEN)
        assert not BlacklistedNumber.objects.in_list(solar).exists()
    before = lists_now()

    response = client.post(reverse("blacklist:delete_list", args=[solar.pk]), follow=True)

    assert messages_of(response) == [
        "“Solar” holds numbers or did once, so it was not deleted: archive it instead (an archived list takes no"
        " new numbers and still blocks; its history stays). Nothing was changed."]
    assert lists_now() == before
    assert Event.objects.filter(dnc_list_id=solar.pk).count() == (4 if then_removed else 2)


def test_a_list_with_permanent_numbers_is_never_deleted_and_they_never_leave_it(client, manager):
    solar, other = make_list("Solar"), make_list("Other")
    put(solar, phones(100, 1), Status.PERMANENT)
    put(solar, phones(101, 1), Status.APPROVED)
    entry = BlacklistedNumber.objects.get(phone=phones(100, 1)[0])
    query = f"list={solar.pk}"

    client.post(reverse("blacklist:delete_list", args=[solar.pk]))
    client.post(reverse("blacklist:row_action", args=["approved", "remove"]), {"pk": entry.pk, "query": query})
    client.post(reverse("blacklist:bulk_action", args=["approved"]),
                {"action": "remove", "scope": "all", "query": query, "confirmed": "on"})
    client.post(reverse("blacklist:bulk_action", args=["approved"]),
                {"action": "unapprove", "scope": "selected", "ids": [entry.pk], "query": query})
    client.post(reverse("blacklist:archive_list", args=[solar.pk]))

    assert DncList.objects.filter(pk=solar.pk).exists()
    assert list(BlacklistedNumber.objects.in_list(solar).values_list("phone", "status")) == [
        (entry.phone, Status.PERMANENT)]  # the approved one was removed by "all matching"
    for move in ({"dnc_list": other}, {"phone": "+14155559999"}, {"status": Status.REVIEW}):
        with pytest.raises(DatabaseError), transaction.atomic():
            BlacklistedNumber.objects.filter(pk=entry.pk).update(**move)
    with pytest.raises(DatabaseError), transaction.atomic():
        BlacklistedNumber.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert (entry.dnc_list_id, entry.status) == (solar.pk, Status.PERMANENT)


@pytest.mark.parametrize("role", ["Reviewer", "Viewer"])
def test_only_managers_keep_the_lists(client, make_user, role):
    solar = make_list("Solar")
    client.force_login(make_user(role))
    before = lists_now()

    assert client.get(reverse("blacklist:lists")).status_code == 403
    assert client.post(reverse("blacklist:lists"), {"new-name": "Mine"}).status_code == 403
    for name in ("edit_list", "archive_list", "unarchive_list", "delete_list"):
        assert client.post(reverse(f"blacklist:{name}", args=[solar.pk]), {f"l{solar.pk}-name": "x"}).status_code == 403
    assert lists_now() == before
    assert f'href="{reverse("blacklist:lists")}"' not in client.get(reverse("blacklist:review")).content.decode()


def test_the_manager_role_holds_the_lists_permission_and_the_changes_are_post_only(client, manager):
    assert Group.objects.get(name="Manager").permissions.filter(codename="manage_lists").exists()
    assert not Group.objects.get(name="Reviewer").permissions.filter(codename="manage_lists").exists()
    solar = make_list("Solar")
    for name in ("edit_list", "archive_list", "unarchive_list", "delete_list"):
        assert client.get(reverse(f"blacklist:{name}", args=[solar.pk])).status_code == 405
    assert client.post(reverse("blacklist:archive_list", args=[987654])).status_code == 404
    client.logout()
    assert client.get(reverse("blacklist:lists")).status_code == 302  # to the login page


def test_the_lists_page_counts_each_lists_entries(client, manager, internal):
    solar, acme = make_list("Solar"), make_list("Acme", archived_at=timezone.now())
    put(internal, phones(100, 4))
    put(solar, phones(100, 30))
    put(solar, phones(500, 2), Status.PERMANENT)
    page = text(client.get(reverse("blacklist:lists")))

    def count(dnc_list):
        return page[page.index(f'id="list-{dnc_list.pk}"'):].split('list-count">')[1].split(">")[1].split("<")[0]

    assert (count(internal), count(solar), count(acme)) == ("4", "32", "0")
    assert f'href="{reverse("blacklist:approved")}?list={solar.pk}"' in page


# The list picker and the tabs


@pytest.fixture
def three_lists(db, internal):
    """Internal, Solar and Acme (archived), each with more than a page of numbers for review; one
    number on all three; Solar's oldest two overdue."""
    solar, acme = make_list("Solar"), make_list("Acme")
    put(internal, phones(100, 30) + ["+12125550000"])
    put(solar, phones(100, 40, area="212"))
    put(acme, phones(300, 27, area="212") + ["+12125550000"])
    long_ago = timezone.now() - timedelta(days=60)
    BlacklistedNumber.objects.in_list(solar).filter(phone__in=phones(100, 2, area="212")).update(
        deadline=long_ago.date())
    put(solar, phones(900, 3, area="646"), Status.APPROVED)
    acme.archived_at = timezone.now()
    acme.save()
    return internal, solar, acme


def walk(client, tab, params) -> list:
    """Every row of a tab, page by page, through the Next links' cursors."""
    seen, query = [], dict(params)
    while True:
        response = client.get(reverse(f"blacklist:{tab}"), query)
        assert response.status_code == 200
        seen += response.context["page"].rows
        cursor = response.context["page"].next_cursor
        if not cursor:
            return seen
        next_link = text(response).split('rel="next"')[0].rsplit("href=", 1)[1]
        assert f"list={params['list']}" in next_link if "list" in params else "list=" not in next_link
        query = {**params, "after": cursor}


def test_each_list_shows_its_own_entries_page_after_page(admin_client, three_lists):
    internal, solar, acme = three_lists

    assert {(row.phone, row.dnc_list_id) for row in walk(admin_client, "review", {})} == {
        (phone, internal.pk) for phone in phones(100, 30) + ["+12125550000"]}
    assert len(walk(admin_client, "review", {"list": solar.pk})) == 40
    assert {row.dnc_list_id for row in walk(admin_client, "review", {"list": solar.pk})} == {solar.pk}
    assert len(walk(admin_client, "review", {"list": acme.pk})) == 28
    every = walk(admin_client, "review", {"list": "all"})
    assert len(every) == 31 + 40 + 28
    assert sorted(row.dnc_list_id for row in every if row.phone == "+12125550000") == [internal.pk, acme.pk]


def test_the_tab_labels_count_the_chosen_list(admin_client, three_lists):
    internal, solar, acme = three_lists

    def labels(params):
        response = admin_client.get(reverse("blacklist:review"), params)
        counts = response.context["tab_counts"]
        return counts["review"][0], counts["approved"][0], counts["overdue"]

    assert labels({}) == (31, 0, "")
    assert labels({"list": solar.pk}) == (40, 3, "2")
    assert labels({"list": acme.pk}) == (28, 0, "")
    assert labels({"list": "all"}) == (99, 3, "2")
    page = text(admin_client.get(reverse("blacklist:review"), {"list": solar.pk}))
    assert 'data-count="review">40<' in page and re.search(r'data-count="overdue"[^>]*>2 overdue<', page)


def test_the_picker_offers_every_list_and_every_link_keeps_the_choice(admin_client, three_lists):
    internal, solar, acme = three_lists
    response = admin_client.get(reverse("blacklist:review"), {"list": solar.pk, "phone": "212 555"})
    page = response.content.decode()

    picker = page[page.index('name="list" id="id_list"'):page.index("</select>", page.index('id="id_list"'))]
    assert re.findall(r">([^<]+)</option>", picker) == ["Internal", "Solar", "Acme (archived)", "All lists"]
    assert f'value="{solar.pk}" selected' in picker
    assert f'href="/blacklist/approved/?list={solar.pk}"' in page  # the tabs
    assert f'href="/blacklist/add/?list={solar.pk}"' in page
    assert f'<input type="hidden" name="list" value="{solar.pk}">' in page  # the filter form
    assert f'href="/blacklist/review/?list={solar.pk}">Reset</a>' in page
    export = re.search(r'href="(/blacklist/review/export.csv[^"]*)"', page).group(1)
    assert f"list={solar.pk}" in html.unescape(export)
    assert f'name="query" value="list={solar.pk}&amp;phone=212+555"' in page  # bulk and row actions
    sort_link = re.search(r'href="(\?[^"]*sort=phone[^"]*)"', page).group(1)
    assert f"list={solar.pk}" in html.unescape(sort_link)
    nothing_chosen = admin_client.get(reverse("blacklist:review")).content.decode()
    assert 'href="/blacklist/approved/"' in nothing_chosen and 'name="list" value=' not in nothing_chosen


def test_all_lists_adds_a_list_column(admin_client, three_lists):
    internal, solar, acme = three_lists
    one = text(admin_client.get(reverse("blacklist:review"), {"list": solar.pk}))
    every = text(admin_client.get(reverse("blacklist:review"), {"list": "all", "phone": "2125550000"}))

    header = re.compile(r"<th[^>]*>\s*List\s*</th>")
    assert not header.search(one)
    assert header.search(every)
    rows = every[every.index("<tbody>"):].split("</tr>")[:2]
    assert sorted("Acme" in row for row in rows) == [False, True]
    assert any("<td>Internal</td>" in row for row in rows)
    assert 'Acme <span class="badge text-bg-secondary">archived</span>' in every


@pytest.mark.parametrize("value", ["987654", "abc", "-1", "1e3", "０"])
def test_an_unknown_or_malformed_list_is_a_400_that_says_so(admin_client, three_lists, value):
    for url in (reverse("blacklist:review"), reverse("blacklist:approved"), reverse("blacklist:add"),
                reverse("blacklist:export", args=["review"])):
        response = admin_client.get(url, {"list": value})
        assert response.status_code == 400
        assert f"There is no list “{value}”: choose one in the list picker." in text(response)
    before = list(BlacklistedNumber.objects.values_list("pk", "status"))
    response = admin_client.post(reverse("blacklist:bulk_action", args=["review"]),
                                 {"action": "approve", "scope": "all", "query": f"list={value}", "confirmed": "on"})
    assert response.status_code == 400 and "Nothing was changed." in text(response)
    assert list(BlacklistedNumber.objects.values_list("pk", "status")) == before


# Acting within the chosen list


def test_approving_all_matching_on_one_list_leaves_the_same_number_on_another_for_review(admin_client, three_lists):
    internal, solar, acme = three_lists
    put(solar, ["+12125550000"])  # now on Internal, Solar and Acme, for review on each

    response = admin_client.post(reverse("blacklist:bulk_action", args=["review"]),
                                 {"action": "approve", "scope": "all", "query": f"list={solar.pk}&phone=212555",
                                  "confirmed": "on"}, follow=True)

    assert messages_of(response)[0] == "Approved 41 numbers."
    assert response.redirect_chain[-1][0] == f"/blacklist/review/?list={solar.pk}&phone=212555"
    assert not BlacklistedNumber.objects.in_list(solar).for_review().exists()
    shared = dict(BlacklistedNumber.objects.filter(phone="+12125550000").values_list("dnc_list_id", "status"))
    assert shared == {internal.pk: Status.REVIEW, solar.pk: Status.APPROVED, acme.pk: Status.REVIEW}
    assert BlacklistedNumber.objects.in_list(acme).for_review().count() == 28
    assert BlacklistedNumber.objects.in_list(internal).for_review().count() == 31
    assert set(Event.objects.filter(action=Event.Action.APPROVED).values_list("dnc_list_id", flat=True)) == {solar.pk}


def test_selected_ids_of_another_list_are_not_acted_on(admin_client, three_lists):
    internal, solar, acme = three_lists
    on_internal = BlacklistedNumber.objects.in_list(internal).get(phone="+12125550000")
    on_acme = BlacklistedNumber.objects.in_list(acme).get(phone="+12125550000")

    admin_client.post(reverse("blacklist:bulk_action", args=["review"]),
                      {"action": "approve", "scope": "selected", "ids": [on_internal.pk, on_acme.pk],
                       "query": f"list={acme.pk}"})
    admin_client.post(reverse("blacklist:row_action", args=["review", "remove"]),
                      {"pk": on_internal.pk, "query": f"list={solar.pk}"})

    on_internal.refresh_from_db()
    on_acme.refresh_from_db()
    assert (on_internal.status, on_acme.status) == (Status.REVIEW, Status.APPROVED)
    row = admin_client.post(reverse("blacklist:row_action", args=["review", "approve"]),
                            {"pk": on_internal.pk, "query": "list=all"})
    assert row.status_code == 302
    on_internal.refresh_from_db()
    assert on_internal.status == Status.APPROVED  # "All lists": any entry by its own id


def test_a_large_all_matching_job_stores_its_list_and_acts_within_it(admin_client, three_lists, monkeypatch,
                                                                    django_capture_on_commit_callbacks):
    internal, solar, acme = three_lists
    monkeypatch.setattr(views, "BACKGROUND_ABOVE", 10)
    with django_capture_on_commit_callbacks():
        admin_client.post(reverse("blacklist:bulk_action", args=["review"]),
                          {"action": "approve", "scope": "all", "query": f"list={acme.pk}", "confirmed": "on",
                           "confirmed_count": 28})
    job = TaskLog.objects.get(kind=TaskLog.Kind.BULK_APPROVE)
    assert job.params == {"tab": "review", "action": "approve", "query": f"list={acme.pk}", "list": acme.pk,
                          "confirmed_count": 28}
    assert BlacklistedNumber.objects.in_list(acme).for_review().count() == 28  # not yet: in the background

    services.run_bulk_action(job)

    job.refresh_from_db()
    assert (job.state, job.changed) == (TaskLog.State.SUCCEEDED, 28)
    assert not BlacklistedNumber.objects.in_list(acme).for_review().exists()
    assert BlacklistedNumber.objects.in_list(internal).for_review().count() == 31
    assert BlacklistedNumber.objects.in_list(solar).for_review().count() == 40


def test_a_large_job_over_every_list_stores_none_and_acts_on_all(admin_client, three_lists, monkeypatch,
                                                                django_capture_on_commit_callbacks):
    monkeypatch.setattr(views, "BACKGROUND_ABOVE", 10)
    with django_capture_on_commit_callbacks():
        admin_client.post(reverse("blacklist:bulk_action", args=["review"]),
                          {"action": "approve", "scope": "all", "query": "list=all&phone=2125550000",
                           "confirmed": "on"})
    admin_client.post(reverse("blacklist:bulk_action", args=["review"]),  # 2 rows: at once
                      {"action": "approve", "scope": "all", "query": "list=all&phone=2125550000", "confirmed": "on"})
    assert not BlacklistedNumber.objects.filter(phone="+12125550000").for_review().exists()
    with django_capture_on_commit_callbacks():
        admin_client.post(reverse("blacklist:bulk_action", args=["review"]),
                          {"action": "approve", "scope": "all", "query": "list=all", "confirmed": "on"})
    job = TaskLog.objects.get(kind=TaskLog.Kind.BULK_APPROVE)
    assert job.params["list"] is None
    services.run_bulk_action(job)
    assert not BlacklistedNumber.objects.for_review().exists()


def test_a_job_from_before_lists_acts_on_internal(three_lists, admin_user):
    internal, solar, acme = three_lists
    job = TaskLog.objects.create(kind=TaskLog.Kind.BULK_APPROVE, created_by=admin_user,
                                 params={"tab": "review", "action": "approve", "query": ""})
    services.run_bulk_action(job)
    assert not BlacklistedNumber.objects.in_list(internal).for_review().exists()
    assert BlacklistedNumber.objects.in_list(solar).for_review().count() == 40


def exported(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode().removeprefix("\ufeff"))))


def test_the_export_holds_the_chosen_list_only(admin_client, three_lists):
    internal, solar, acme = three_lists
    url = reverse("blacklist:export", args=["review"])

    one = exported(admin_client.get(url, {"list": acme.pk, "sort": "phone"}))
    default = exported(admin_client.get(url))
    every = exported(admin_client.get(url, {"list": "all", "phone": "2125550000"}))

    assert one[0][-1] == "list" and len(one) == 1 + 28 and {row[-1] for row in one[1:]} == {"Acme"}
    assert [row[0] for row in one[1:]] == sorted(phones(300, 27, area="212") + ["+12125550000"])
    assert len(default) == 1 + 31 and {row[-1] for row in default[1:]} == {"Internal"}
    assert sorted(row[-1] for row in every[1:]) == ["Acme", "Internal"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN of PostgreSQL's planner")
def test_a_one_list_tab_page_reads_its_list_index(admin_client, internal):
    """With many lists of numbers, the page's rows come from the list-led partial index, not a
    scan: checked with EXPLAIN on the very query the page ran."""
    lists = [make_list(f"Campaign {n}") for n in range(4)]
    rows = [BlacklistedNumber(phone=f"+1212{n}{i:06d}", dnc_list=dnc_list, status=Status.REVIEW if i % 3 else
                              Status.APPROVED) for n, dnc_list in enumerate([internal, *lists]) for i in range(4000)]
    BlacklistedNumber.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {BlacklistedNumber._meta.db_table}")

    for tab, index in (("review", "list_review_newest_first"), ("approved", "list_approved_newest_first")):
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(reverse(f"blacklist:{tab}"), {"list": lists[2].pk})
        assert response.status_code == 200 and len(response.context["page"].rows) == 25
        page_query = next(q["sql"] for q in queries if "LIMIT 26" in q["sql"])
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {page_query}")
            plan = "\n".join(line for (line,) in cursor.fetchall())
        assert index in plan, plan
        assert f"Seq Scan on {BlacklistedNumber._meta.db_table}" not in plan, plan  # (the one-row joined tables may be)


def test_the_confirmation_counts_within_the_list_and_posts_it_back(admin_client, three_lists):
    internal, solar, acme = three_lists
    response = admin_client.post(reverse("blacklist:bulk_action", args=["review"]),
                                 {"action": "approve_permanently", "scope": "all", "query": f"list={solar.pk}"})

    page = text(response)
    assert response.status_code == 200 and "Approve 40 numbers permanently?" in page
    assert f'name="query" value="list={solar.pk}"' in page
    assert f'href="/blacklist/review/?list={solar.pk}">Cancel</a>' in page
    assert response.context["tab_counts"]["review"][0] == 40  # the labels of the list on screen
    assert f'value="{solar.pk}" selected' in page
    assert not BlacklistedNumber.objects.filter(status=Status.PERMANENT).exists()  # asked, not done


def test_an_archived_list_is_shown_as_archived_above_its_tabs(admin_client, three_lists):
    internal, solar, acme = three_lists
    page = text(admin_client.get(reverse("blacklist:review"), {"list": acme.pk}))
    assert 'archived list</span>' in page and f'value="{acme.pk}" selected>Acme (archived)' in page
    assert 'archived list</span>' not in text(admin_client.get(reverse("blacklist:review"), {"list": solar.pk}))
