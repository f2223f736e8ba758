"""The dashboard's contact pages: the API's rules and messages, next to the fields."""

from __future__ import annotations

import csv
import html
import io
import re

from tests.conftest import Org, contact
from tests.web.conftest import Dashboard

NEW = {"phone_no": "+91 92000 00001", "first_name": "Asha", "last_name": "Rao"}


def _field_error(page: str, field: str) -> str:
    found = re.search(rf'<small id="{field}-error" class="error">([^<]*)</small>', page)
    assert found, page
    return html.unescape(found.group(1))


def test_add_stores_the_contact_as_the_api_would(dashboard: Dashboard) -> None:
    answer = dashboard.post(
        "/contacts/new", {**NEW, "email_id": "Asha@Example.COM", "company": " Acme "}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/?notice=added"
    [stored] = dashboard.contacts()
    assert stored["phone_no"] == "919200000001"
    assert stored["email_id"] == "Asha@example.com"
    assert stored["company"] == "Acme"
    assert stored["job_title"] is None
    assert "Contact added." in dashboard.http.get("/?notice=added").text


def test_add_shows_each_fields_error_next_to_it_and_keeps_the_input(
    dashboard: Dashboard,
) -> None:
    sent = {"phone_no": "12ab", "first_name": "", "last_name": "Rao", "email_id": "nope"}
    answer = dashboard.post("/contacts/new", sent)
    assert answer.status_code == 400
    page = answer.text
    # The API's own messages, for the same body.
    api = dashboard.org.add([{**sent, "company": ""}]).json()["errors"]
    for problem in api:
        assert _field_error(page, problem["field"]) == problem["msg"]
    assert {p["field"] for p in api} == {"phone_no", "first_name", "email_id"}
    assert 'id="phone_no" name="phone_no" value="12ab"' in page
    assert 'aria-describedby="phone_no-error"' in page
    assert 'id="last_name-error"' not in page
    assert dashboard.contacts() == []


def test_adding_a_stored_number_again_shows_the_409_message(dashboard: Dashboard) -> None:
    assert dashboard.post("/contacts/new", NEW).status_code == 303
    [stored] = dashboard.contacts()
    answer = dashboard.post("/contacts/new", {**NEW, "first_name": "Other"})
    assert answer.status_code == 409
    assert "Duplicate contact detected within the organization" in answer.text
    assert f'href="/contacts/{stored["contact_id"]}/edit"' in answer.text
    assert dashboard.contacts() == [stored]


def test_edit_changes_the_contact_and_refuses_a_taken_number(dashboard: Dashboard) -> None:
    dashboard.org.add([contact("+919200000001"), contact("+919200000002", "Bo")])
    first, second = dashboard.contacts()
    page = dashboard.http.get(f"/contacts/{first['contact_id']}/edit")
    assert page.status_code == 200
    assert 'value="919200000001"' in page.text
    path = f"/contacts/{first['contact_id']}/edit"
    changed = {"phone_no": "919200000001", "first_name": "Johnny", "last_name": "Doe"}
    answer = dashboard.post(path, {**changed, "company": "Acme"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/?notice=updated"
    now = dashboard.contacts()[0]
    assert (now["first_name"], now["company"]) == ("Johnny", "Acme")

    # Clearing an optional field clears it; a required one is refused, as in the API.
    assert dashboard.post(path, {**changed, "company": ""}).status_code == 303
    assert dashboard.contacts()[0]["company"] is None
    refused = dashboard.post(path, {**changed, "last_name": ""})
    assert refused.status_code == 400
    assert _field_error(refused.text, "last_name") == "is required and cannot be cleared"

    taken = dashboard.post(path, {**changed, "phone_no": second["phone_no"]})
    assert taken.status_code == 409
    assert "Duplicate contact" in taken.text
    assert dashboard.contacts()[0]["phone_no"] == "919200000001"


def test_delete_asks_first_then_deletes(dashboard: Dashboard) -> None:
    dashboard.org.add([contact("+919200000001")])
    [stored] = dashboard.contacts()
    confirm = dashboard.http.get(f"/contacts/{stored['contact_id']}/delete")
    assert confirm.status_code == 200
    assert "Delete John Doe?" in confirm.text
    assert dashboard.contacts() == [stored]
    answer = dashboard.post(f"/contacts/{stored['contact_id']}/delete", {})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/?notice=deleted"
    assert dashboard.contacts() == []
    assert dashboard.http.get(f"/contacts/{stored['contact_id']}/edit").status_code == 404


def test_another_organizations_contact_is_not_found(dashboard: Dashboard, org_in: Org) -> None:
    org_in.add([contact("+919200000009")])
    other = org_in.get().json()["contacts"][0]["contact_id"]
    assert dashboard.http.get(f"/contacts/{other}/edit").status_code == 404
    assert dashboard.http.get("/contacts/not-an-id/delete").status_code == 404
    assert dashboard.post(f"/contacts/{other}/delete", {}).status_code == 404
    assert org_in.get().json()["count"] == 1


def test_the_list_pages_with_the_apis_cursor_and_searches(dashboard: Dashboard) -> None:
    people = [contact(f"+9192000{n:05d}", f"Person{n:02d}", "Doe") for n in range(30)]
    people[7]["company"] = "Zebra Works"
    assert dashboard.org.add(people).status_code == 200
    first = dashboard.http.get("/")
    assert "30 contacts." in first.text
    assert first.text.count('scope="row"') == 25
    next_link = re.search(r'href="(/\?q=&amp;page_state=[^"]+)" rel="next"', first.text)
    assert next_link
    second = dashboard.http.get(next_link.group(1).replace("&amp;", "&"))
    assert second.text.count('scope="row"') == 5
    assert 'rel="next"' not in second.text
    assert "Person29" in second.text

    found = dashboard.http.get("/", params={"q": "zebra"})
    assert "1 contact match “zebra”." in found.text
    assert "Person07" in found.text
    # The fragment that search-as-you-type swaps in.
    fragment = dashboard.http.get("/", params={"q": "9200000012", "partial": "1"})
    assert "<html" not in fragment.text
    assert "Person12" in fragment.text

    forged = dashboard.http.get("/", params={"page_state": "forged"})
    assert forged.status_code == 400
    assert "page_state" in forged.text


def test_import_reports_added_duplicates_and_rejected_rows(dashboard: Dashboard) -> None:
    dashboard.org.add([contact("+919200000001", "Stored")])
    rows = [
        ["Phone", "First Name", "Surname", "Email"],
        ["+91 92000 00001", "Already", "Stored", ""],  # line 2: stored before
        ["+91 92000 00002", "New", "One", "new@example.com"],  # 3
        ["not a phone", "Bad", "Phone", ""],  # 4
        ["+91 92000 00002", "Again", "One", ""],  # 5: repeats line 3
        ["+91 92000 00003", "", "Nameless", ""],  # 6
        *[[f"+91 93000 {n:05d}", "Bulk", str(n), ""] for n in range(150)],  # 7..156
    ]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    answer = dashboard.post(
        "/import", {}, files={"file": ("people.csv", out.getvalue().encode(), "text/csv")}
    )
    assert answer.status_code == 200, answer.text
    page = answer.text
    assert '<dd id="summary-added">151</dd>' in page
    assert '<dd id="summary-duplicates">2</dd>' in page
    assert '<dd id="summary-rejected">2</dd>' in page
    assert "155 of 155 rows" in page
    assert dashboard.org.get().json()["count"] == 152

    link = re.search(r'href="(/import/rejected/[^"]+)"', page)
    assert link
    download = dashboard.http.get(link.group(1))
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    lines = list(csv.reader(io.StringIO(download.text)))
    assert lines[0] == ["line", "reason", "Phone", "First Name", "Surname", "Email"]
    assert [line[0] for line in lines[1:]] == ["4", "6"]
    assert lines[2][1] == "first_name: must not be empty"
    assert lines[1][2:] == ["not a phone", "Bad", "Phone", ""]


def test_import_refuses_a_file_without_the_needed_columns(dashboard: Dashboard) -> None:
    answer = dashboard.post(
        "/import", {}, files={"file": ("x.csv", b"name,city\nA,B\n", "text/csv")}
    )
    assert answer.status_code == 400
    assert "no column for phone_no, first_name, last_name (headers: name, city)" in answer.text
    assert "--map" not in answer.text
    empty = dashboard.post("/import", {}, files={"file": ("empty.csv", b"", "text/csv")})
    assert empty.status_code == 400
    assert "empty.csv has no header row" in empty.text
    not_utf8 = dashboard.post(
        "/import", {}, files={"file": ("x.csv", b"phone,first,last\n\xff\xfe,1,2\n", "text/csv")}
    )
    assert not_utf8.status_code == 400
    assert "UTF-8" in not_utf8.text


def test_import_without_the_csrf_token_adds_nothing(dashboard: Dashboard) -> None:
    body = b"phone,first name,last name\n+919200000001,A,B\n"
    answer = dashboard.http.post("/import", files={"file": ("x.csv", body, "text/csv")})
    assert answer.status_code == 403
    assert dashboard.contacts() == []


def _written(dashboard: Dashboard, operation: str) -> float:
    metrics = dashboard.http.get("/metrics").text
    found = re.search(
        rf'^contacthub_contacts_written_total{{operation="{operation}"}} (\S+)$', metrics, re.M
    )
    return float(found.group(1)) if found else 0.0


def test_the_dashboards_writes_are_counted_as_the_apis(dashboard: Dashboard) -> None:
    before = {op: _written(dashboard, op) for op in ("created", "updated", "deleted")}
    assert dashboard.post("/contacts/new", NEW).status_code == 303
    [stored] = dashboard.contacts()
    path = f"/contacts/{stored['contact_id']}"
    assert dashboard.post(f"{path}/edit", {**NEW, "company": "Acme"}).status_code == 303
    assert dashboard.post(f"{path}/delete", {}).status_code == 303
    after = {op: _written(dashboard, op) for op in ("created", "updated", "deleted")}
    assert {op: after[op] - before[op] for op in after} == {
        "created": 1.0,
        "updated": 1.0,
        "deleted": 1.0,
    }
