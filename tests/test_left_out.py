"""A list page given a filter, order or page it cannot read (an order it does not offer, a date
that is none, a number past any id, a choice it does not know, a page that is not there) still
answers 200 with the rest of the list, and says which parameter it left out and why, in the
reader's language; the API answers the same value 400 (tests/test_api.py)."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from accounts.imports import import_upload
from accounts.models import ImportKind, User
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

HEADING = "The list leaves out what it cannot read in its address:"
HUGE = "9" * 30

# Every list page that reads its address, with who reads it and a value it cannot read of each
# kind it takes: (url name, role, parameter, value).
PAGES = [
    ("accounts:client-list", "chair", "ordering", "favourite"),
    ("accounts:client-list", "chair", "segment", "galactic"),
    ("accounts:client-list", "chair", "owner_kam", HUGE),
    ("accounts:client-list", "chair", "is_key", "maybe"),
    ("accounts:client-list", "chair", "page", "two"),
    ("accounts:import-list", "administrator", "page", HUGE),
    ("governance:proposal-list", "chair", "state", "pondering"),
    ("governance:proposal-list", "chair", "type", "wish"),
    ("governance:proposal-list", "chair", "page", "-1"),
    ("governance:decision-list", "chair", "type", "wish"),
    ("governance:decision-list", "chair", "client", "x"),
    ("governance:exception-list", "chair", "state", "pondering"),
    ("governance:exception-list", "chair", "approver", "the_moon"),
    ("governance:incident-list", "chair", "state", "pondering"),
    ("governance:record-list", "chair", "since", "yesterday"),
    ("governance:record-list", "chair", "until", "2026-02-30"),
    ("governance:record-list", "chair", "actor", HUGE),
    ("governance:record-list", "chair", "export", "pdf"),
    ("governance:meeting-list", "chair", "page", "last"),
    ("governance:kpi-entries", "director", "page", HUGE),
    ("governance:budget-list", "chair", "quarter", "spring"),
    ("criteria:portfolio", "chair", "segment", "galactic"),
    ("criteria:portfolio", "chair", "verdict", "maybe"),
    ("criteria:overview", "chair", "page", "two"),
]


def _page(http: HttpClient, name: str, parameter: str, value: str, language: str) -> str:
    if language != "en":
        http.post(reverse("set_language"), {"language": language, "next": "/"})
    response = http.get(reverse(name), {parameter: value})
    assert response.status_code == 200, (name, parameter, response.status_code)
    return response.text


def _notice(page: str) -> str:
    assert 'data-testid="left-out"' in page, "no notice of what was left out"
    return page.split('data-testid="left-out"', 1)[1].split("</div>", 1)[0]


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize(("name", "role", "parameter", "value"), PAGES)
def test_a_list_page_says_which_parameter_it_left_out(
    client_as, cast: dict[str, User], name, role, parameter, value, language
):
    page = _page(client_as(cast[role]), name, parameter, value, language)

    notice = _notice(page)
    assert f'<html lang="{language}">' in page
    with translation.override(language):
        assert gettext(HEADING) in notice
    # Which parameter, with the value asked (cut short when long), and why.
    assert f'data-testid="left-out-{parameter}"' in notice
    assert f"<code>{parameter}={value[:39]}" in notice
    reason = notice.split(f'data-testid="left-out-{parameter}"', 1)[1].split("—", 1)[1]
    assert reason.split("</li>", 1)[0].strip()


def test_the_registers_results_say_what_was_left_out_when_htmx_refreshes_them(client_as, chair):
    http = client_as(chair)
    url = reverse("accounts:client-list")

    region = http.get(url, {"segment": "galactic"}, headers={"HX-Request": "true"}).text
    page = http.get(url, {"segment": "galactic"}).text

    assert region.lstrip().startswith('<section id="client-results"')
    assert region.count('data-testid="left-out-segment"') == 1
    assert page.count('data-testid="left-out-segment"') == 1  # above, not again in the region
    clean = http.get(url, {"segment": "enterprise"}, headers={"HX-Request": "true"}).text
    assert "left-out" not in clean


def test_the_rest_of_the_address_still_applies(client_as, chair):
    """One parameter left out, the others filter as asked."""
    ClientFactory(name="Alpha Mills", segment="enterprise")
    ClientFactory(name="Beta Foods", segment="mid_market")

    page = client_as(chair).get(
        reverse("accounts:client-list"), {"segment": "enterprise", "ordering": "favourite"}
    )

    assert page.status_code == 200
    assert "Alpha Mills" in page.text
    assert "Beta Foods" not in page.text
    assert 'data-testid="left-out-ordering"' in page.text
    assert 'data-testid="left-out-segment"' not in page.text


def test_a_page_that_reads_its_address_says_nothing_when_all_is_read(client_as, chair):
    page = client_as(chair).get(
        reverse("accounts:client-list"), {"segment": "enterprise", "ordering": "-name", "page": "1"}
    )
    assert page.status_code == 200
    assert 'data-testid="left-out"' not in page.text


def test_a_missing_object_lists_nothing_and_says_so(client_as, chair):
    """On the committee's lists, a client that is not there lists nothing (not every client's
    proposals): the notice says so."""
    page = _page(client_as(chair), "governance:proposal-list", "client", HUGE, "en")

    notice = _notice(page)
    assert 'data-testid="left-out-client"' in notice
    assert "nothing is listed" in notice


@pytest.mark.parametrize(("parameter", "value"), [("show", "everything"), ("page", "two")])
def test_an_imports_rows_say_what_was_left_out(client_as, administrator, parameter, value):
    batch = import_upload(
        kind=ImportKind.CLIENTS, filename="c.csv", content=b"name\n", user=administrator
    )

    response = client_as(administrator).get(batch.get_absolute_url(), {parameter: value})

    assert response.status_code == 200
    assert f'data-testid="left-out-{parameter}"' in _notice(response.text)
