"""A person's whole visit to the dashboard, in Chromium: every action of issue 7."""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import SKIP_REASON, new_page
from tests.conftest import Org, contact

expect = pytest.importorskip(
    "playwright.sync_api", reason=f"{SKIP_REASON} (playwright is not installed)"
).expect

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

# Tests never write tracked files: the README's picture (docs/dashboard.png) is refreshed only
# when this names it, as `make screenshot` does.
SCREENSHOT_ENV = "CONTACTHUB_DASHBOARD_SCREENSHOT"


FIRST = ("Meera", "Tom", "Li", "Sofia", "Ravi", "Amara", "Jonas", "Yuki", "Omar", "Grace")
LAST = ("Iyer", "Becker", "Wei", "Rossi", "Nair", "Okafor", "Berg", "Sato", "Haddad", "Kim")
COMPANY = ("Acme Corp", "Globex", "Initech", "Umbrella", "Stark Industries")
TITLE = ("Engineer", "Buyer", "CTO", "Sales lead", "Support")


def _sample(n: int) -> dict[str, str]:
    first, last = FIRST[n % 10], LAST[(n * 3 + n // 10) % 10]
    return contact(
        f"+9193000{n:05d}",
        first,
        last,
        email_id=f"{first}.{last}{n}@example.com".lower(),
        company=COMPANY[n % 5],
        job_title=TITLE[(n // 2) % 5],
    )


def _log_in(page: Page, org: Org) -> None:
    page.goto(org.server.url + "/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("User id").fill(org.user_id)
    page.get_by_label("Password").fill(org.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Contacts")).to_be_visible()


def _add(page: Page, phone: str, first: str, last: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Add contact").click()
    page.get_by_label("Phone number").fill(phone)
    page.get_by_label("First name").fill(first)
    page.get_by_label("Last name").fill(last)
    page.get_by_role("button", name="Add contact").click()


def test_a_visit_log_in_add_duplicate_search_edit_delete_import_log_out(
    browser: Browser, browser_org: Org, tmp_path: Path
) -> None:
    page = new_page(browser, viewport={"width": 1280, "height": 800})
    _log_in(page, browser_org)

    _add(page, "+91 92000 00001", "Asha", "Rao")
    expect(page.get_by_role("status")).to_have_text("Contact added.")
    expect(page.get_by_role("row", name=re.compile("Asha Rao"))).to_be_visible()

    # The same number again: the API's 409 message, and the input kept.
    _add(page, "+91 92000 00001", "Asha", "Again")
    expect(page.get_by_role("alert")).to_contain_text(
        "Duplicate contact detected within the organization"
    )
    expect(page.get_by_label("Last name")).to_have_value("Again")
    # A per-field error, next to its field.
    page.get_by_label("Phone number").fill("12ab")
    page.get_by_role("button", name="Add contact").click()
    expect(page.locator("#phone_no-error")).to_contain_text("must contain only digits")
    expect(page.get_by_label("Phone number")).to_have_attribute("aria-invalid", "true")

    browser_org.add([_sample(n) for n in range(40)])
    page.get_by_role("link", name="Contacts", exact=True).click()
    expect(page.get_by_text("41 contacts.")).to_be_visible()
    page.screenshot(
        path=os.environ.get(SCREENSHOT_ENV) or str(tmp_path / "dashboard.png"), full_page=False
    )

    # Search as you type: no submit, the results follow the typing.
    page.get_by_label("Search by name, company, e-mail or phone").press_sequentially("asha")
    expect(page.get_by_text("1 contact match “asha”.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"\?q=asha$"))
    expect(page.get_by_role("row")).to_have_count(2)  # header and Asha

    page.get_by_role("link", name="Edit Asha Rao").click()
    page.get_by_label("Company").fill("Acme Corp")
    page.get_by_label("Last name").fill("")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#last_name-error")).to_have_text("is required and cannot be cleared")
    page.get_by_label("Last name").fill("Rao-Iyer")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Contact saved.")
    expect(page.get_by_role("row", name=re.compile("Asha Rao-Iyer"))).to_contain_text("Acme Corp")

    page.get_by_role("link", name="Delete Asha Rao-Iyer").click()
    expect(page.get_by_role("heading", name="Delete Asha Rao-Iyer?")).to_be_visible()
    page.get_by_role("button", name="Delete contact").click()
    expect(page.get_by_role("status")).to_have_text("Contact deleted.")
    expect(page.get_by_text("40 contacts.")).to_be_visible()

    _import(page, tmp_path)

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.goto(browser_org.server.url + "/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.close()


def _import(page: Page, tmp_path: Path) -> None:
    rows = [["Phone", "First Name", "Last Name"]]
    rows += [[f"+91 94000 {n:05d}", "Imported", str(n)] for n in range(250)]
    rows += [["+91 93000 00000", "Stored", "Before"], ["no phone", "Bad", "Row"]]
    rows += [["+91 94000 00001", "Repeated", "Row"], ["+91 95000 00000", "", "Nameless"]]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    file = tmp_path / "people.csv"
    file.write_text(out.getvalue())

    page.get_by_role("link", name="Import CSV").click()
    page.get_by_label("CSV file").set_input_files(str(file))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name="Summary")).to_be_visible()
    expect(page.locator("#summary-added")).to_have_text("250")
    expect(page.locator("#summary-duplicates")).to_have_text("2")
    expect(page.locator("#summary-rejected")).to_have_text("2")
    expect(page.get_by_text("254 of 254 rows")).to_be_visible()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the rejected rows (CSV)").click()
    download = download_info.value
    lines = list(csv.reader(io.StringIO(Path(download.path()).read_text())))
    assert lines[0] == ["line", "reason", "Phone", "First Name", "Last Name"]
    assert [line[0] for line in lines[1:]] == ["253", "255"]

    page.get_by_role("link", name="See the contacts").click()
    expect(page.get_by_text("290 contacts.")).to_be_visible()


def test_a_phone_sized_screen_and_the_keyboard(browser: Browser, browser_org: Org) -> None:
    browser_org.add([contact("+919200000001", "Asha", "Rao", company="Acme Corp")])
    page = new_page(browser, viewport={"width": 360, "height": 740})
    page.goto(browser_org.server.url + "/login")
    # Keyboard only: the login form's fields in order, Enter submits.
    expect(page.get_by_label("User id")).to_be_focused()
    page.keyboard.type(browser_org.user_id)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(browser_org.password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Contacts")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Asha Rao"))).to_be_visible()
    # Nothing wider than the screen.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width
    for name in ("phone_no", "first_name", "last_name", "email_id", "company", "job_title"):
        page.goto(browser_org.server.url + "/contacts/new")
        expect(page.locator(f"label[for={name}]")).to_be_visible()
    page.close()


def test_the_search_form_works_without_javascript(browser: Browser, browser_org: Org) -> None:
    browser_org.add([contact("+919200000001", "Asha", "Rao"), contact("+919200000002", "Bo")])
    page = new_page(browser, java_script_enabled=False)
    _log_in(page, browser_org)
    page.get_by_label("Search by name, company, e-mail or phone").fill("bo")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("1 contact match “bo”.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"\?q=bo$"))
    page.close()
