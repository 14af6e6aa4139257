"""Accessibility, measured: axe-core (tests/vendor/axe-core) on every page and state of the app at a
laptop's size and a phone's, no sideways scroll on the phone, and a keyboard user's focus.

The data is made once, as users make it (hand entry, an upload imported by a real worker, bulk
actions), and each page and state is checked where the journey reaches it: several are answers to
a POST (a confirmation, a new key), so they exist only there, which is why the checks are subtests
of one journey rather than parametrized tests. Each page, size and check is its own subtest, so one
run reports every failure, with the rules, their impact and the elements to fix."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from blacklist.models import BlacklistedNumber, DncList
from registry.models import AreaCode
from registry.tests.files import flat, numbers
from tasks_logs.models import TaskLog
from tests.helpers import add_list, log_in, wait_until_finished

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SIZES = {"desktop": {"width": 1400, "height": 900}, "phone": {"width": 390, "height": 844}}
NODES_SHOWN = 3  # per violation: enough to find the element, short enough to read 170 of them


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page as it is now: every rule axe runs by default."""
    if not AXE.exists():  # a missing file is a broken checkout, never a reason to skip (CI or not)
        pytest.fail(f"axe-core is missing: {AXE} (tests/vendor/axe-core/README.md says how to get it).")
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(path=AXE)
    return page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")


def describe(violations: list[dict]) -> str:
    """One paragraph per violated rule: its id, impact and help, then where (the first few nodes)."""
    lines = []
    for violation in violations:
        nodes = violation["nodes"]
        lines.append(f"{violation['id']} ({violation['impact']}, {len(nodes)} node(s)): {violation['help']}")
        lines += [f"    {' '.join(map(str, node['target']))}" for node in nodes[:NODES_SHOWN]]
        if len(nodes) > NODES_SHOWN:
            lines.append(f"    … and {len(nodes) - NODES_SHOWN} more")
    return "\n".join(lines)


def assert_no_axe_violations(page) -> None:
    if violations := axe_violations(page):
        pytest.fail(f"axe-core found {len(violations)} rule(s) violated on {page.url}:\n{describe(violations)}")


def assert_no_sideways_scroll(page) -> None:
    scroll_width, window_width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if scroll_width > window_width:
        pytest.fail(f"{page.url} scrolls sideways: {scroll_width} px wide in a {window_width} px window")


# Each control the Tab key reaches, focused in turn: its look must change (an outline, a ring, a
# colour), and one that says it is disabled (itself or its Bootstrap `li.disabled`) must not be
# reachable. Transitions are off (the context asks for reduced motion, which Bootstrap honours), so
# the focused look is there at once.
KEYBOARD_PROBLEMS = """() => {
  const look = (el) => { const s = getComputedStyle(el);
    return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow, s.borderColor, s.backgroundColor,
            s.color, s.textDecorationLine].join(' '); };
  const name = (el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.name ? `[name=${el.name}]` : ''}`
    + ` "${(el.getAttribute('aria-label') || el.innerText || el.value || '').trim().slice(0, 40)}"`;
  const reachable = [...document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]')]
    .filter((el) => el.tabIndex >= 0 && !el.disabled && el.getClientRects().length
            && getComputedStyle(el).visibility !== 'hidden');
  const problems = [];
  document.activeElement.blur();  // the Tab pressed first: each control is then seen unfocused, then focused
  for (const el of reachable) {
    if (el.closest('.disabled, [aria-disabled="true"]')) problems.push(`disabled but in the tab order: ${name(el)}`);
    const unfocused = look(el);
    el.focus();
    if (document.activeElement === el && look(el) === unfocused) problems.push(`no visible focus: ${name(el)}`);
  }
  document.activeElement.blur();
  return problems;
}"""


def assert_keyboard_usable(page) -> None:
    """Every control the Tab key reaches shows its focus, and none of them is a disabled one."""
    page.keyboard.press("Tab")  # a keyboard user: focus() then shows focus as after a Tab (:focus-visible)
    if problems := page.evaluate(KEYBOARD_PROBLEMS):
        pytest.fail(f"{len(problems)} keyboard problem(s) on {page.url}:\n" + "\n".join(problems[:20]))


@pytest.fixture
def axe_page(browser, live_server):
    """A page in a context that lets axe-core's injected script run: our Content-Security-Policy
    forbids it, and stays as it is for every other test."""
    context = browser.new_context(bypass_csp=True, reduced_motion="reduce")
    yield context.new_page()
    context.close()


@pytest.fixture
def check(axe_page, subtests):
    """check("name") → axe on the page as it is now at both sizes, the phone's width, and the keyboard:
    each a subtest."""

    def run(name: str) -> None:
        for size, viewport in SIZES.items():
            axe_page.set_viewport_size(viewport)
            with subtests.test(msg=f"{name} at {size}: axe"):
                assert_no_axe_violations(axe_page)
        with subtests.test(msg=f"{name} at phone: sideways scroll"):
            assert_no_sideways_scroll(axe_page)
        axe_page.set_viewport_size(SIZES["desktop"])
        with subtests.test(msg=f"{name} at desktop: keyboard"):
            assert_keyboard_usable(axe_page)

    return run


def test_every_page_and_state_passes_axe_the_phone_width_and_the_keyboard(
    axe_page, check, live_server, celery_worker_process, tmp_path
):
    page, url = axe_page, live_server.url
    get_user_model().objects.create_superuser("admin", password="journey-pass-123")
    page.goto(f"{url}/accounts/login/")
    check("login")
    log_in(page, url, "admin", "a wrong password")
    check("login, a wrong password")
    log_in(page, url, "admin", "journey-pass-123")

    page.goto(f"{url}/blacklist/review/")
    check("review tab, empty")
    page.goto(f"{url}/blacklist/add/")
    check("add tab")
    page.get_by_label("Numbers").fill("\n".join(f"(415) 555-{i:04d}" for i in range(100, 130)))
    with page.expect_navigation():
        page.get_by_role("button", name="Add numbers").click()
    registry_file = tmp_path / "201-full.txt"
    registry_file.write_bytes(flat(numbers(201, 500)))
    csv = tmp_path / "optouts-november.csv"  # junk rows: the task page lists them as rejected
    csv.write_text("phone\n" + "\n".join(f"212-555-{i:04d}" for i in range(200, 240)) + "\nnot a number\n12345\n")
    page.goto(f"{url}/blacklist/add/")
    page.locator("#upload-form input[type=file]").set_input_files(csv)
    with page.expect_navigation():
        page.locator("#upload-form").get_by_role("button", name="Upload").click()
    upload = wait_until_finished(TaskLog.objects.get(file_name=csv.name))
    assert upload.state == TaskLog.State.SUCCEEDED, upload.message
    # A failed job, as a worker records one (no user path fails a job on purpose).
    TaskLog.objects.create(kind=TaskLog.Kind.BULK_REMOVE, state=TaskLog.State.FAILED, created_by=upload.created_by,
                           message="The filter is not valid. Nothing was changed.")
    page.goto(f"{url}/blacklist/add/")  # an upload as approved permanently: asked first, stored meanwhile
    page.locator("#upload-form input[type=file]").set_input_files(csv)
    page.locator("#upload-form").get_by_label("Mark all dnc leads as approved permanently").check()
    with page.expect_navigation():
        page.locator("#upload-form").get_by_role("button", name="Upload").click()
    expect(page.get_by_role("button", name="Yes, add permanently")).to_be_visible()
    check("an upload awaiting its permanent confirmation")
    page.goto(f"{url}/tasks/")
    check("tasks logs, an upload awaiting confirmation")

    page.goto(f"{url}/blacklist/review/")
    check("review tab, 70 rows")
    rows = page.locator("table.blacklist-table tbody tr")
    for row in range(2):
        rows.nth(row).locator("input[type=checkbox]").check()
    check("review tab, 2 rows ticked")
    page.get_by_label("Select all on this page").check()
    expect(page.get_by_text("All 25 on this page are selected.")).to_be_visible()
    check("review tab, the whole page ticked: the select-all banner")
    page.get_by_role("button", name="Clear selection").click()
    rows.nth(0).get_by_role("button", name=re.compile("^More actions for")).click()
    expect(rows.nth(0).get_by_role("menu").or_(rows.nth(0).locator(".dropdown-menu.show"))).to_be_visible()
    check("review tab, a row's menu open")
    page.keyboard.press("Escape")
    for row in range(2):
        rows.nth(row).locator("input[type=checkbox]").check()
    page.get_by_label("Bulk action").select_option("approve")
    page.get_by_label("Which records").select_option("selected")
    with page.expect_navigation():
        page.get_by_role("button", name="OK", exact=True).click()
    check("review tab, after a bulk action")
    rows.nth(0).locator("input[type=checkbox]").check()
    page.get_by_label("Bulk action").select_option("approve_permanently")
    page.get_by_label("Which records").select_option("selected")
    with page.expect_navigation():
        page.get_by_role("button", name="OK", exact=True).click()
    expect(page).to_have_url(re.compile(r"/review/bulk/$"))  # the confirmation, a POST's answer
    check("bulk confirmation")
    page.goto(f"{url}/blacklist/review/")
    rows.nth(0).locator("input[type=checkbox]").check()  # a Consumer request added just now: kept for retention
    page.get_by_label("Bulk action").select_option("remove")
    page.get_by_label("Which records").select_option("selected")
    with page.expect_navigation():
        page.get_by_role("button", name="OK", exact=True).click()
    expect(page.get_by_text("kept for retention").first).to_be_visible()  # a Manager may write why
    check("bulk confirmation with a retention justification")
    page.goto(f"{url}/blacklist/review/?added_after=soon")
    check("review tab, a filter error")
    page.goto(f"{url}/blacklist/approved/")
    check("approved tab")

    page.goto(f"{url}/tasks/")
    check("tasks logs, a finished and a failed job")
    page.goto(f"{url}/tasks/{upload.pk}/")
    check("task page with rejected rows")
    page.goto(f"{url}/activity/")
    check("activity")
    page.goto(f"{url}/activity/history/?phone=%2B14155550100")
    check("history of a number")
    page.goto(f"{url}/activity/compliance/")
    check("compliance report")

    page.goto(f"{url}/blacklist/lists/")
    add_list(page, "Campaign: Solar West")
    check("lists")
    page.get_by_label("Name of Campaign: Solar West").fill("")
    with page.expect_navigation():
        page.get_by_role("button", name="Save Campaign: Solar West").click()
    check("lists, an edit refused")
    page.goto(f"{url}/blacklist/review/?list={DncList.objects.get(name='Campaign: Solar West').pk}")
    check("review tab of an empty list")
    page.goto(f"{url}/blacklist/reasons/")
    check("reasons")
    page.goto(f"{url}/api/")
    check("api keys")
    page.get_by_label("Name").first.fill("Five9 production")
    with page.expect_navigation():
        page.get_by_role("button", name="Create API key").click()
    check("api key created")
    page.goto(f"{url}/registry/")
    check("registry, empty")
    page.get_by_label("Area code", exact=True).fill("2O1")
    page.get_by_label("Registry file", exact=True).set_input_files(registry_file)
    with page.expect_navigation():
        page.get_by_role("button", name="Load").click()
    check("registry, a form error")
    page.get_by_label("Area code", exact=True).fill("201")
    page.get_by_label("Registry file", exact=True).set_input_files(registry_file)
    with page.expect_navigation():
        page.get_by_role("button", name="Load").click()
    assert wait_until_finished(TaskLog.objects.get(file_name=registry_file.name)).state == TaskLog.State.SUCCEEDED
    AreaCode.objects.update(data_date=timezone.localdate() - timedelta(days=40))
    page.goto(f"{url}/registry/")
    check("registry, a stale area code")
    page.goto(f"{url}/blacklist/approved/")
    expect(page.get_by_text("1 area code of the national registry is older than 31 days.")).to_be_visible()
    check("approved tab, the stale registry banner")
    page.goto(f"{url}/roles/")
    check("roles")
    page.goto(f"{url}/blacklist/review/?list=junk")
    check("400: a bad ?list=")

    page.goto(f"{url}/blacklist/review/")
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()
    check("logged out")

    assert BlacklistedNumber.objects.count() == 70
