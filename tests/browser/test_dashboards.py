"""A director opens the portfolio dashboard, changes the quarter, drills down to a KAM and one of
their accounts, and downloads the account's XLSX: the file opens and holds the figures the page
shows."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from governance.kpis.snapshots import snapshot_quarter
from governance.models import KpiTarget
from tests.browser.conftest import login
from tests.factories import ClientFactory
from tests.kpi_world import NOW, PREVIOUS, Q, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(kam, kam2, director):
    world = build_world(kam, kam2)
    KpiTarget.objects.create(
        kpi=world.kpis["revenue"], mandate=world.mandate, period=PREVIOUS, target=1400
    )
    KpiTarget.objects.create(
        kpi=world.kpis["revenue"],
        mandate=world.mandate,
        client=world.a,
        period=PREVIOUS,
        target=900,
    )
    snapshot_quarter(PREVIOUS, now=NOW)
    snapshot_quarter(Q, now=NOW)
    return world


def cells(page: Page, table: str, first: str) -> list[str]:
    """The text of a table row's cells, found by its first cell."""
    row = page.get_by_test_id(f"table-{table}").locator(
        "tr", has=page.locator(f"th:text-is('{first}')")
    )
    return [" ".join(text.split()) for text in row.locator("th, td").all_inner_texts()]


def number(text: str) -> Decimal:
    """The figure of a cell: "1,000 On target" or a target worded "at least 900"."""
    return Decimal(text.removeprefix("at least ").split(" ")[0].replace(",", ""))


def test_director_drills_down_from_the_portfolio_to_an_account_and_exports_it(
    page: Page, live_server, world
) -> None:
    login(page, live_server, "director")
    page.get_by_role("link", name="Dashboards").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Portfolio dashboard")
    expect(page.get_by_test_id("period-label")).to_have_text("2026 Q3")
    expect(page.locator("#chart-key-clients")).to_have_attribute("data-drawn", "true")

    page.get_by_label("Quarter", exact=True).select_option("2026-04-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("period-label")).to_have_text("2026 Q2")
    # Q2: 2500 sold in all, 1000 of it by the key client A.
    page.get_by_text("The same as a table").first.click()
    assert cells(page, "key-clients", "2026 Q2")[7:9] == ["2,500", "1,000"]

    page.get_by_test_id("table-kams").get_by_role("link", name=str(world.kam)).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"KPIs of {world.kam}")
    expect(page.get_by_test_id("period-label")).to_have_text("2026 Q2")
    assert cells(page, "kpis", "Revenue, RUB")[2:5] == ["at least 1,400", "1,500", "On target"]

    page.get_by_test_id("table-accounts").get_by_role("link", name="A", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("A")
    expect(page.get_by_test_id("period-label")).to_have_text("2026 Q2")
    expect(page.get_by_role("link", name=str(world.kam))).to_be_visible()  # the way back
    kpis = cells(page, "kpis", "Revenue, RUB")
    assert kpis[1:] == ["at least 900", "1,000", "On target"]
    page.get_by_test_id("section-figures").get_by_text("The same as a table").click()
    figures = cells(page, "figures", "2026 Q2")

    with page.expect_download() as download_info:
        page.get_by_test_id("export-xlsx").click()
    download = download_info.value
    assert download.suggested_filename == "skam-account-a-2026-Q2.xlsx"
    workbook = load_workbook(BytesIO(download.path().read_bytes()))
    sheets = {sheet.title: sheet for sheet in workbook.worksheets}

    exported_kpi = next(
        row
        for row in sheets["KPIs of the account"].iter_rows(values_only=True)
        if row[0] == "Revenue, RUB"
    )
    assert [Decimal(str(v)) for v in exported_kpi[1:3]] == [number(kpis[1]), number(kpis[2])]
    assert exported_kpi[3] == "On target"
    exported_figures = next(
        row
        for row in sheets["Figures by quarter"].iter_rows(values_only=True)
        if row[0] == "2026 Q2"
    )
    assert [Decimal(str(v)) for v in exported_figures[1:4]] == [number(t) for t in figures[1:4]]


CHART_SERIES = """key => {
  const chart = window.skamDashboardCharts[key];
  return {
    colours: chart.data.datasets.map(set => set.borderColor),
    ticks: chart.scales.y.ticks.map(tick => tick.value),
  };
}"""


def test_every_series_has_its_own_colour_and_counts_step_by_whole_numbers(
    page: Page, live_server, world
) -> None:
    """The KAM's trend draws nine KPIs: nine colours. The account's exception requests are
    counts: the axis reads 0, 1, never 0.1."""
    login(page, live_server, "kam")
    page.goto(f"{live_server.url}/committee/dashboards/kam/{world.kam.pk}/")
    expect(page.locator("#chart-trend")).to_have_attribute("data-drawn", "true")
    trend = page.evaluate(CHART_SERIES, "trend")
    assert len(trend["colours"]) == 9
    assert len(set(trend["colours"])) == 9, trend["colours"]

    page.goto(f"{live_server.url}/committee/dashboards/account/{world.a.pk}/")
    expect(page.locator("#chart-exceptions")).to_have_attribute("data-drawn", "true")
    ticks = page.evaluate(CHART_SERIES, "exceptions")["ticks"]
    assert ticks and all(float(tick).is_integer() for tick in ticks), ticks


def test_the_directors_drift_block_tells_what_the_drift_panel_lists(
    page: Page, live_server, world
) -> None:
    """Two key clients no mandate covers: the block says "To decide" with the panel's count,
    and its row opens the panel's list, in English and Russian."""
    ClientFactory(name="Orphan One", is_key=True)
    ClientFactory(name="Orphan Two", is_key=True)
    login(page, live_server, "director")
    page.get_by_role("link", name="Dashboards").click()
    row = page.get_by_test_id("table-drift").locator(
        "tr", has=page.get_by_role("link", name="Key clients no mandate in force covers")
    )
    expect(row.locator("td").last).to_have_text("2 To decide")

    page.get_by_test_id("table-drift").get_by_role(
        "link", name="Key clients no mandate in force covers"
    ).click()
    expect(page.get_by_test_id("count-outside-mandates")).to_have_text("2")
    expect(page.get_by_test_id("outside-mandates")).to_contain_text("Orphan One")
    panel = [
        (tile.get_attribute("href").split("#")[1], tile.inner_text().split()[0])
        for tile in page.get_by_test_id("drift-counts").locator(".tile").all()
    ]
    page.go_back()
    block = [
        (
            row.locator("a").first.get_attribute("href").split("#")[1],
            row.locator("td").last.inner_text().split()[0],
        )
        for row in page.get_by_test_id("table-drift").locator("tbody tr").all()
    ]
    # The same indicators (each row opens its tile's list), in the same order, same counts.
    assert block == panel

    page.get_by_role("button", name="Русский").click()
    expect(page.get_by_test_id("table-drift")).to_contain_text(
        "Ключевые клиенты вне действующих мандатов"
    )
