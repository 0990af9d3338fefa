"""The client register as people use it: in Chromium, through the real pages, against a live server.

Every test waits on what the page shows (Playwright's ``expect``), never on a clock.
"""

from __future__ import annotations

import datetime
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.imports import import_apply_run, import_check_run
from accounts.models import Client, ImportBatch, ImportStatus, Segment
from accounts.periods import quarter_start
from tests.browser.conftest import login
from tests.factories import (
    PASSWORD,
    ClientFactory,
    FigureFactory,
    NeedFactory,
    TeamMemberFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO_ROOT / "docs" / "screenshot.png"

# What the main navigation shows to each role, in order.
WITH_RULER = [
    "Home",
    "Clients",
    "The ruler",
    "Committee",
    "Mandates",
    "Exceptions",
    "Dashboards",
    "API",
]
# The committee also reads the change record (governance/record/).
FOR_THE_COMMITTEE = [*WITH_RULER[:-1], "Change record", "API"]
NAVIGATION_BY_ROLE = {
    "chair": FOR_THE_COMMITTEE,
    "member": FOR_THE_COMMITTEE,
    "kam": ["Home", "Clients", "My mandate", "API"],
    "kam2": ["Home", "Clients", "My mandate", "API"],
    "director": WITH_RULER,
    "administrator": [
        "Home",
        "Clients",
        "The ruler",
        "Committee",
        "Mandates",
        "Exceptions",
        "Dashboards",
        "Imports",
        "API",
        "Administration",
    ],
}


def main_nav(page: Page):
    return page.get_by_role("navigation", name="Main").get_by_role("link")


def result_count(page: Page):
    return page.get_by_test_id("result-count")


def result_rows(page: Page):
    return page.locator("#client-results tbody tr")


def set_marker(page: Page) -> None:
    """Mark the window: a full page load loses the mark, an htmx swap keeps it."""
    page.evaluate("window.__marker = 1")


def assert_no_reload(page: Page) -> None:
    assert page.evaluate("window.__marker") == 1, "the page was reloaded instead of swapped"


# --- (1) logging in, and the navigation each role gets -----------------------------------------


@pytest.mark.parametrize("role", list(NAVIGATION_BY_ROLE))
def test_each_role_logs_in_and_sees_its_navigation(page: Page, live_server, request, role):
    user = request.getfixturevalue(role)

    login(page, live_server, user.username, PASSWORD)

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {user.first_name}")
    expect(page.get_by_test_id("current-user")).to_have_text(user.get_full_name())
    expect(main_nav(page)).to_have_text(NAVIGATION_BY_ROLE[role])
    expect(page.get_by_role("link", name="Home", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    import_tile = page.locator(".tiles").get_by_role("link", name=re.compile("Import clients"))
    expect(import_tile).to_have_count(1 if role == "administrator" else 0)


def test_user_without_role_sees_no_register(page: Page, live_server, outsider):
    login(page, live_server, outsider.username)

    expect(main_nav(page)).to_have_text(["Home", "API"])
    expect(page.get_by_text("Your account has no role yet")).to_be_visible()


def test_wrong_password_shows_error_and_stays_on_login_page(page: Page, live_server, kam):
    page.goto("/login/")
    page.get_by_label("User name").fill(kam.username)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in", exact=True).click()

    expect(page.get_by_role("alert")).to_contain_text("didn't match")
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.get_by_label("User name")).to_have_value(kam.username)
    expect(page.get_by_test_id("current-user")).to_have_count(0)

    page.goto("/clients/")  # still anonymous: sent back to the form
    expect(page).to_have_url(re.compile(r"/login/\?next=/clients/$"))


# --- (2) searching, filtering, sorting and paging the client list ------------------------------


@pytest.fixture
def thirty_clients(db) -> list[Client]:
    named = [
        ClientFactory(name="Volga Steel Works JSC", segment=Segment.ENTERPRISE),
        ClientFactory(name="Volga Paper Mill LLC", segment=Segment.MID_MARKET),
        ClientFactory(name="Upper Volga Logistics LLC", segment=Segment.SMALL),
        ClientFactory(name="Baltic Shipyard JSC", segment=Segment.ENTERPRISE),
    ]
    return named + ClientFactory.create_batch(26)  # "Client 0001 LLC"…, mid-market


def test_search_updates_results_without_reload_and_survives_reload(
    page: Page, live_server, chair, thirty_clients
):
    login(page, live_server, chair.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    expect(result_count(page)).to_have_text("30 clients")
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    set_marker(page)

    page.get_by_label("Search").press_sequentially("volga")

    expect(result_count(page)).to_have_text("3 clients")
    expect(page).to_have_url(re.compile(r"[?&]q=volga(&|$)"))
    expect(result_rows(page).locator("td:first-child")).to_have_text(
        ["Upper Volga Logistics LLC", "Volga Paper Mill LLC", "Volga Steel Works JSC"]
    )
    expect(page.get_by_text("Page 1 of 2")).to_have_count(0)
    assert_no_reload(page)

    page.get_by_label("Segment").select_option("enterprise")

    expect(result_count(page)).to_have_text("1 client")
    expect(page).to_have_url(re.compile(r"[?&]segment=enterprise(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]q=volga(&|$)"))
    expect(result_rows(page)).to_have_count(1)
    expect(result_rows(page).first).to_contain_text("Volga Steel Works JSC")
    expect(result_rows(page).first).to_contain_text("Enterprise")
    assert_no_reload(page)

    page.reload()

    assert page.evaluate("window.__marker") is None  # a real reload this time
    expect(result_count(page)).to_have_text("1 client")
    expect(result_rows(page).first).to_contain_text("Volga Steel Works JSC")
    expect(page.get_by_label("Search")).to_have_value("volga")
    expect(page.get_by_label("Segment")).to_have_value("enterprise")


def test_search_with_no_match_says_so(page: Page, live_server, chair, thirty_clients):
    login(page, live_server, chair.username)
    page.goto("/clients/")
    set_marker(page)

    page.get_by_label("Search").press_sequentially("no such client")

    expect(result_count(page)).to_have_text("0 clients")
    expect(page.get_by_text("No clients match")).to_be_visible()
    assert_no_reload(page)


def test_sorting_and_paging_through_htmx_keep_state_in_url(
    page: Page, live_server, chair, thirty_clients
):
    login(page, live_server, chair.username)
    page.goto("/clients/")
    expect(result_rows(page).first).to_contain_text("Baltic Shipyard JSC")
    set_marker(page)

    page.get_by_label("Sort by").select_option("-name")

    expect(page).to_have_url(re.compile(r"[?&]ordering=-name(&|$)"))
    expect(result_rows(page).first).to_contain_text("Volga Steel Works JSC")
    expect(result_rows(page)).to_have_count(25)
    assert_no_reload(page)

    pagination = page.get_by_role("navigation", name="Pages")
    pagination.get_by_role("link", name="Next").click()

    expect(pagination).to_contain_text("Page 2 of 2")
    expect(page).to_have_url(re.compile(r"[?&]page=2(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]ordering=-name(&|$)"))
    expect(result_rows(page)).to_have_count(5)
    expect(result_rows(page).last).to_contain_text("Baltic Shipyard JSC")
    expect(pagination.get_by_role("link", name="Next")).to_have_count(0)
    assert_no_reload(page)

    page.reload()

    expect(page.get_by_role("navigation", name="Pages")).to_contain_text("Page 2 of 2")
    expect(result_rows(page).last).to_contain_text("Baltic Shipyard JSC")
    expect(page.get_by_label("Sort by")).to_have_value("-name")
    set_marker(page)

    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Previous").click()

    expect(page.get_by_role("navigation", name="Pages")).to_contain_text("Page 1 of 2")
    expect(result_rows(page).first).to_contain_text("Volga Steel Works JSC")
    assert_no_reload(page)


def test_back_button_after_opening_a_client_shows_the_whole_list_page(
    page: Page, live_server, chair, thirty_clients
):
    """The URL htmx pushed is also the URL of a partial response; going back to it must show
    the full page, not the bare fragment from the browser's cache."""
    login(page, live_server, chair.username)
    page.goto("/clients/")
    page.get_by_label("Search").press_sequentially("volga")
    expect(result_count(page)).to_have_text("3 clients")

    page.get_by_role("link", name="Volga Paper Mill LLC").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Volga Paper Mill LLC")

    page.go_back()

    expect(page).to_have_url(re.compile(r"[?&]q=volga(&|$)"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Clients")
    expect(page.get_by_label("Search")).to_have_value("volga")
    expect(result_count(page)).to_have_text("3 clients")


# --- (3) a KAM and the accounts they work ------------------------------------------------------


def test_kam_opens_own_client_and_sees_needs_and_figures(
    page: Page, live_server, kam, account_of_kam, account_of_kam2
):
    NeedFactory(client=account_of_kam, name="Just-in-time delivery", weight=9)
    NeedFactory(client=account_of_kam, name="Certified alloys", weight=6)
    FigureFactory(
        client=account_of_kam,
        period=datetime.date(2026, 7, 1),
        revenue=Decimal("1250000.00"),
        gross_margin=Decimal("312500.00"),
    )

    login(page, live_server, kam.username)
    # A KAM's home counts My mandate (none is granted here), not the register's accounts.
    expect(page.locator(".tiles")).to_contain_text("you hold no mandate in force")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()

    expect(result_count(page)).to_have_text("1 client")
    expect(page.get_by_text(account_of_kam2.name)).to_have_count(0)
    page.get_by_role("link", name=account_of_kam.name).click()

    expect(page).to_have_url(re.compile(rf"/clients/{account_of_kam.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(account_of_kam.name)
    needs = page.get_by_role("region", name="Needs")
    expect(needs.locator("tbody tr")).to_have_count(2)
    expect(needs.get_by_role("row", name=re.compile("Just-in-time delivery"))).to_contain_text("9")
    figures = page.get_by_role("region", name="Figures by quarter")
    expect(figures.locator("tbody tr")).to_have_count(1)
    expect(figures.locator("tbody tr")).to_contain_text("2026 Q3")
    expect(figures.locator("tbody tr")).to_contain_text("1,250,000")
    expect(figures.locator("tbody tr")).to_contain_text("25.0")  # margin, %
    # A KAM keeps needs current; master data and figures belong to the administrator.
    expect(page.get_by_role("link", name="Edit needs")).to_be_visible()
    expect(page.get_by_role("link", name="Edit figures")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit", exact=True)).to_have_count(0)


def test_kam_cannot_open_another_kams_client(
    page: Page, live_server, kam, account_of_kam, account_of_kam2
):
    login(page, live_server, kam.username)

    response = page.goto(f"/clients/{account_of_kam2.pk}/")

    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Nothing here")
    expect(page.get_by_text("outside the accounts you work with")).to_be_visible()
    expect(page.get_by_text(account_of_kam2.name)).to_have_count(0)


# --- (4) the administrator imports clients from a CSV file -------------------------------------


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(["ИНН;Наименование;Сегмент", *rows]) + "\n", encoding="utf-8")
    return path


def upload(page: Page, path: Path) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()
    page.get_by_label("The file holds").select_option("clients")
    page.locator("input[type=file]").set_input_files(path)
    page.get_by_role("button", name="Check the file").click()
    expect(page).to_have_url(re.compile(r"/clients/imports/\d+/$"))


@pytest.fixture
def worker(monkeypatch) -> list[tuple[str, int]]:
    """The worker, played by the test: the pages queue their tasks here, and the test runs
    them when it chooses, so that it sees the page wait, poll and change."""
    queued: list[tuple[str, int]] = []
    monkeypatch.setattr(
        "accounts.views.import_enqueue", lambda task, pk: queued.append((task.name, pk)) or True
    )
    return queued


def test_administrator_imports_clients_from_csv(
    page: Page, live_server, administrator, tmp_path, worker
):
    csv_file = write_csv(
        tmp_path / "clients.csv",
        ["7707083893;АО «Камский шинный завод»;enterprise", "7707654321;Oka Glass Works LLC;small"],
    )
    login(page, live_server, administrator.username)

    upload(page, csv_file)

    expect(page.get_by_role("heading", level=1)).to_have_text("clients.csv")
    expect(page.get_by_test_id("import-status")).to_have_text("Waiting for the worker")
    [(_task, batch_id)] = worker
    import_check_run(batch_id=batch_id)  # the worker's turn; the page polls and sees it
    expect(page.get_by_test_id("import-status")).to_have_text("Checked, ready to import")
    expect(page.get_by_text("2 rows: 2 new, 0 updated, 0 unchanged, 0 with errors")).to_be_visible()
    report = page.get_by_test_id("import-report")
    expect(report.locator("thead")).to_contain_text("Наименование")
    expect(report.locator("tbody tr.row-create")).to_have_count(2)
    expect(report.locator("tbody tr").first).to_contain_text("7707083893")
    expect(report.locator("tbody tr").first).to_contain_text("Enterprise")
    expect(report.locator("tbody tr").first).to_contain_text("new client")
    assert not Client.objects.exists()  # nothing is written before the confirmation

    page.get_by_role("button", name="Import all rows").click()

    expect(page.get_by_role("status")).to_contain_text("Importing 2 rows from clients.csv")
    expect(page.get_by_test_id("import-status")).to_have_text("Being imported")
    import_apply_run(batch_id=batch_id)
    expect(page.get_by_test_id("import-status")).to_have_text("Imported")
    expect(page.get_by_role("button", name="Import all rows")).to_have_count(0)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    page.wait_for_url("**/clients/")  # loaded, so the reload cannot race it
    page.reload()
    expect(result_count(page)).to_have_text("2 clients")
    row = page.get_by_role("row", name=re.compile("Камский шинный завод"))
    expect(row).to_contain_text("7707083893")
    expect(row).to_contain_text("Enterprise")
    expect(page.get_by_role("row", name=re.compile("Oka Glass Works LLC"))).to_contain_text(
        "Small business"
    )


def test_import_with_a_bad_row_shows_it_and_offers_no_confirmation(
    page: Page, live_server, administrator, tmp_path, worker
):
    csv_file = write_csv(
        tmp_path / "bad.csv",
        ["7707083893;Kama Tyre Plant JSC;enterprise", "7707654321;Oka Glass Works LLC;galactic"],
    )
    login(page, live_server, administrator.username)

    upload(page, csv_file)
    import_check_run(batch_id=worker[0][1])

    expect(page.get_by_test_id("import-status")).to_have_text("Has errors, nothing imported")
    expect(page.get_by_text("2 rows: 1 new, 0 updated, 0 unchanged, 1 with errors")).to_be_visible()
    error_rows = page.get_by_test_id("import-report").locator("tbody tr.row-error")
    expect(error_rows).to_have_count(1)
    expect(error_rows).to_contain_text("7707654321")
    expect(error_rows).to_contain_text("“Сегмент”: Unknown segment “galactic”")
    expect(page.get_by_role("alert")).to_contain_text("Nothing was imported")
    expect(page.get_by_role("button", name="Import all rows")).to_have_count(0)
    expect(page.get_by_role("link", name="Download the file with its errors")).to_be_visible()
    assert not Client.objects.exists()
    assert ImportBatch.objects.get().status == ImportStatus.REJECTED


def test_import_form_field_is_described_by_its_help_text(page: Page, live_server, administrator):
    login(page, live_server, administrator.username)
    page.goto("/clients/imports/")

    expect(page.locator("input[type=file]")).to_have_accessible_description(
        re.compile(r"^CSV \(UTF-8, Windows-1251, KOI8-R or CP866")
    )


# --- (5) the language switcher -----------------------------------------------------------------


def test_language_switcher_switches_to_russian_and_back(page: Page, live_server, chair):
    login(page, live_server, chair.username)
    page.goto("/clients/?q=volga")
    html = page.locator("html")
    english = page.locator(".lang-switch button[lang=en]")
    russian = page.locator(".lang-switch button[lang=ru]")
    expect(html).to_have_attribute("lang", "en")
    expect(english).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("heading", level=1)).to_have_text("Clients")

    russian.click()

    expect(html).to_have_attribute("lang", "ru")
    expect(russian).to_have_attribute("aria-pressed", "true")
    expect(russian).to_be_disabled()
    expect(english).not_to_have_attribute("aria-pressed", "true")
    expect(page).to_have_url(re.compile(r"/clients/\?q=volga$"))  # back where we were
    # The Russian catalogue is compiled (locale/ru): the interface itself is translated.
    expect(page.get_by_role("heading", level=1)).to_have_text("Клиенты")
    expect(page.get_by_role("button", name="Выйти")).to_be_visible()

    english.click()

    expect(html).to_have_attribute("lang", "en")
    expect(english).to_have_attribute("aria-pressed", "true")
    expect(russian).to_be_enabled()
    expect(page).to_have_url(re.compile(r"/clients/\?q=volga$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Clients")


# --- the screenshot in the README --------------------------------------------------------------

DEMO_CLIENTS = [
    ("Volga Steel Works JSC", Segment.ENTERPRISE, "Metallurgy", "Samara"),
    ("Ural Chemical Plant LLC", Segment.ENTERPRISE, "Chemicals", "Yekaterinburg"),
    ("Baltic Shipyard JSC", Segment.ENTERPRISE, "Shipbuilding", "Saint Petersburg"),
    ("Siberian Timber Group", Segment.MID_MARKET, "Timber", "Krasnoyarsk"),
    ("Kama Tyre Plant JSC", Segment.ENTERPRISE, "Automotive", "Nizhnekamsk"),
    ("Oka Glass Works LLC", Segment.MID_MARKET, "Glass", "Nizhny Novgorod"),
    ("Don Agro Holding", Segment.MID_MARKET, "Agriculture", "Rostov-on-Don"),
    ("Northern Mining Company", Segment.ENTERPRISE, "Mining", "Murmansk"),
    ("Moscow Metro Depot No. 4", Segment.PUBLIC, "Transport", "Moscow"),
    ("Kazan Helicopter Services", Segment.MID_MARKET, "Aerospace", "Kazan"),
    ("Altai Dairy Cooperative", Segment.SMALL, "Food", "Barnaul"),
    ("Tula Arms Heritage LLC", Segment.SMALL, "Machinery", "Tula"),
    ("Yamal Gas Logistics", Segment.ENTERPRISE, "Oil and gas", "Salekhard"),
    ("Primorye Fishing Fleet", Segment.MID_MARKET, "Fishing", "Vladivostok"),
    ("Regional Hospital No. 1", Segment.PUBLIC, "Healthcare", "Tver"),
    ("Cherepovets Rolling Mill", Segment.ENTERPRISE, "Metallurgy", "Cherepovets"),
    ("Izhevsk Machine Tools", Segment.MID_MARKET, "Machinery", "Izhevsk"),
    ("Vologda Lace Workshop", Segment.SMALL, "Textiles", "Vologda"),
    ("Perm Cable Plant JSC", Segment.MID_MARKET, "Electrical", "Perm"),
    ("Novosibirsk Tech Park", Segment.PUBLIC, "Research", "Novosibirsk"),
    ("Samara Bearing Works", Segment.MID_MARKET, "Machinery", "Samara"),
    ("Kuban Sugar Refinery", Segment.MID_MARKET, "Food", "Krasnodar"),
    ("Arkhangelsk Pulp Mill", Segment.ENTERPRISE, "Timber", "Arkhangelsk"),
    ("Tomsk Polymer Lab", Segment.SMALL, "Chemicals", "Tomsk"),
    ("Kaliningrad Amber Trade", Segment.SMALL, "Retail", "Kaliningrad"),
    ("Omsk Refinery Services", Segment.ENTERPRISE, "Oil and gas", "Omsk"),
    ("Yaroslavl Paint Works", Segment.MID_MARKET, "Chemicals", "Yaroslavl"),
    ("City Water Utility of Ufa", Segment.PUBLIC, "Utilities", "Ufa"),
    ("Lipetsk Steel Components", Segment.MID_MARKET, "Metallurgy", "Lipetsk"),
    ("Irkutsk Aluminium Parts", Segment.ENTERPRISE, "Metallurgy", "Irkutsk"),
]


KEY_CLIENTS = {
    "Arkhangelsk Pulp Mill",
    "Baltic Shipyard JSC",
    "Cherepovets Rolling Mill",
    "Kama Tyre Plant JSC",
    "Northern Mining Company",
    "Volga Steel Works JSC",
}


def test_client_list_screenshot_for_readme(page: Page, live_server, chair, kam, kam2, tmp_path):
    for user, (first, last) in (
        (chair, ("Irina", "Volkova")),
        (kam, ("Anna", "Morozova")),
        (kam2, ("Dmitry", "Orlov")),
    ):
        user.first_name, user.last_name = first, last
        user.save(update_fields=["first_name", "last_name"])
    quarters, start = [], quarter_start(timezone.localdate())
    for _ in range(4):  # the last four closed quarters, oldest last
        start = quarter_start(start - datetime.timedelta(days=1))
        quarters.append(start)
    for index, (name, segment, industry, region) in enumerate(DEMO_CLIENTS):
        client = ClientFactory(
            name=name,
            registration_number=f"{7701_000_000 + index * 104_729}",  # stable in the picture
            segment=segment,
            industry=industry,
            region=region,
            owner_kam=(kam, kam2, None)[index % 3],
            is_key=name in KEY_CLIENTS,
        )
        if index % 2 == 0:
            base = Decimal(120_000_000 - index * 3_500_000)
            for step, period in enumerate(quarters):
                FigureFactory(
                    client=client,
                    period=period,
                    revenue=base - step * Decimal(2_000_000),
                    gross_margin=(base - step * Decimal(2_000_000)) * Decimal("0.24"),
                    potential_revenue=base * 3,
                )

    login(page, live_server, chair.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    expect(result_count(page)).to_have_text(f"{len(DEMO_CLIENTS)} clients")
    expect(page.get_by_role("row", name=re.compile("Baltic Shipyard JSC"))).to_contain_text("Key")
    page.mouse.move(0, 0)

    # The README's picture is refreshed only when asked (SKAM_UPDATE_SCREENSHOT=1): a test run
    # leaves the working tree as it found it.
    shot = SCREENSHOT if os.environ.get("SKAM_UPDATE_SCREENSHOT") == "1" else tmp_path / "shot.png"
    shot.parent.mkdir(exist_ok=True)
    page.screenshot(path=shot)

    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.viewport_size == {"width": 1280, "height": 800}


def test_back_within_the_list_after_a_search_restores_the_unfiltered_list(
    page: Page, live_server, chair, thirty_clients
):
    """Back after an htmx search, when htmx's own history cache does not hold the page (it keeps
    ten pages in sessionStorage): htmx asks the server for the page again."""
    login(page, live_server, chair.username)
    page.goto("/clients/")
    page.get_by_label("Search").press_sequentially("volga")
    expect(result_count(page)).to_have_text("3 clients")
    page.evaluate("sessionStorage.removeItem('htmx-history-cache')")

    page.go_back()

    expect(page).to_have_url(re.compile(r"/clients/$"))
    expect(result_count(page)).to_have_text("30 clients")
    expect(page.get_by_role("heading", level=1)).to_have_text("Clients")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_label("Search")).to_be_visible()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_kam_sorts_own_and_team_accounts_by_owner_across_pages_and_a_reload(
    page: Page, live_server, kam, kam2, language
):
    """A KAM's sort by owner reads their own accounts and their team accounts in two parts and
    merges them: the pages show every account once, in the column's order both ways, on the
    second page and after a reload, in either language."""
    for person, last_name in ((kam, "Orlov"), (kam2, "Belov")):
        person.last_name = last_name
        person.save(update_fields=["last_name"])
    mine = [ClientFactory(owner_kam=kam) for _ in range(24)]
    theirs = [ClientFactory(owner_kam=kam2) for _ in range(3)]
    theirs.append(ClientFactory(owner_kam=None))
    # On the team of one of their own accounts too: it is still listed once.
    for client in [*theirs, mine[0]]:
        TeamMemberFactory(client=client, user=kam)
    ClientFactory(owner_kam=kam2)  # another KAM's account, not on their team
    login(page, live_server, kam.username)
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    sort_by = page.locator("select[name=ordering]")
    for ordering in ("owner_kam", "-owner_kam"):
        descending = ordering.startswith("-")
        expected = list(
            Client.objects.filter(pk__in=[c.pk for c in mine + theirs])
            .order_by(f"{ordering}_last_name", "-pk" if descending else "pk")
            .values_list("name", flat=True)
        )
        assert len(expected) == 28
        page.goto("/clients/")
        expect(page.locator("html")).to_have_attribute("lang", language)
        sort_by.select_option(ordering)

        expect(page).to_have_url(re.compile(rf"[?&]ordering={re.escape(ordering)}(&|$)"))
        expect(result_rows(page)).to_have_count(25)
        expect(result_rows(page)).to_contain_text(expected[:25])
        if not descending:
            expect(sort_by.locator("option:checked")).to_have_text(
                "Ответственный КАМ" if language == "ru" else "Owner KAM"
            )
        page.locator("nav.pagination a[rel=next]").click()

        expect(page).to_have_url(re.compile(r"[?&]page=2(&|$)"))
        expect(result_rows(page)).to_have_count(3)
        expect(result_rows(page)).to_contain_text(expected[25:])

        page.reload()

        expect(result_rows(page)).to_have_count(3)
        expect(result_rows(page)).to_contain_text(expected[25:])
        expect(sort_by).to_have_value(ordering)
        page.locator("nav.pagination a[rel=prev]").click()

        expect(result_rows(page)).to_have_count(25)
        expect(result_rows(page)).to_contain_text(expected[:25])
