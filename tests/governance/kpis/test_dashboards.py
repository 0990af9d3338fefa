"""The directors' dashboards: who may open them, what they show for a quarter, the drill-down
from the portfolio to a KAM and an account, the exports, and that their cost does not grow with
the register. The figures are those of tests/kpi_world.py, snapshotted by the KPI engine."""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
import zipfile
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import ClientFigure, User
from governance.kpis.exports import _shortened
from governance.kpis.figures import kpi_entry_record
from governance.kpis.snapshots import snapshot_quarter
from governance.models import (
    Approver,
    ExceptionRequest,
    KpiTarget,
    Mandate,
    MandateAccount,
    Policy,
    PolicyStatus,
)
from tests.factories import ClientFactory, FigureFactory, KpiFactory, UserFactory
from tests.kpi_world import NOW, PREVIOUS, Q, World, build_world, make_mandate
from tests.queries import SIGN_IN_QUERIES

# The pages open on a quarter chosen from today's: the clock is set to noon in Moscow on a
# day of 2026 Q4 (time-machine), the quarter after the world's (tests/kpi_world.py).
pytestmark = [pytest.mark.django_db, pytest.mark.time_machine("2026-11-18T12:00+03:00")]

# The states a cell may carry after its figure, as the page writes them.
STATES = "On target|Watch|Off target|No target|Clear|To decide"


@pytest.fixture
def world(kam: User, kam2: User) -> World:
    world = build_world(kam, kam2)
    Policy.objects.create(
        number=1,
        title="Policy",
        status=PolicyStatus.IN_FORCE,
        key_clients_min=1,
        key_clients_max=3,
        key_sales_share_target=Decimal(50),
    )
    for code, target in (("revenue", 1400), ("margin", 400), ("exceptions", 0)):
        KpiTarget.objects.create(
            kpi=world.kpis[code], mandate=world.mandate, period=Q, target=target
        )
    KpiTarget.objects.create(
        kpi=world.kpis["revenue"], mandate=world.mandate, client=world.a, period=Q, target=1000
    )
    snapshot_quarter(PREVIOUS, now=NOW)
    snapshot_quarter(Q, now=NOW)
    return world


class _Tables(HTMLParser):
    """The text of every cell of the page's tables, by the table's test id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._in_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table" and (found.get("data-testid") or "").startswith("table-"):
            self._table = found["data-testid"].removeprefix("table-")
            self.tables[self._table] = []
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and self._table and not self._in_head:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table and not self._in_head:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "thead":
            self._in_head = False
        elif tag in ("td", "th") and self._cell is not None and self._table:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables_of(page: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(page)
    return parser.tables


def page_charts(page: str) -> list[dict]:
    """The charts the page draws, as it hands them to the script."""
    found = re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', page)
    return json.loads(found[1])


def row_of(table: list[list[str]], first: str) -> list[str]:
    return next(row for row in table if row[0] == first)


PORTFOLIO = reverse("governance:dashboard-portfolio")


def kam_url(user: User) -> str:
    return reverse("governance:dashboard-kam", args=[user.pk])


def account_url(client_id: int) -> str:
    return reverse("governance:dashboard-account", args=[client_id])


# --- who may open what -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["director", "chair", "member", "administrator"])
def test_directors_the_committee_and_the_administrator_open_every_dashboard(
    role: str, cast: dict[str, User], world: World, client_as
) -> None:
    http = client_as(cast[role])

    portfolio = http.get(PORTFOLIO)
    assert portfolio.status_code == 200
    assert "Key clients" in portfolio.text
    assert http.get(kam_url(world.kam)).status_code == 200
    assert http.get(account_url(world.a.pk)).status_code == 200
    for path in (
        "/api/dashboards/portfolio/",
        f"/api/dashboards/kam/{world.kam.pk}/",
        f"/api/dashboards/account/{world.a.pk}/",
    ):
        assert http.get(path).status_code == 200, path


def test_a_kam_is_refused_the_portfolio_but_sees_own_kpis_and_accounts(
    world: World, client_as
) -> None:
    http = client_as(world.kam)

    assert http.get(PORTFOLIO).status_code == 403
    assert http.get("/api/dashboards/portfolio/").status_code == 403
    assert http.get(kam_url(world.kam)).status_code == 200
    assert http.get(account_url(world.a.pk)).status_code == 200
    assert http.get(f"/api/dashboards/account/{world.a.pk}/").status_code == 200


def test_another_kams_dashboards_are_not_found_for_a_kam(world: World, client_as) -> None:
    http = client_as(world.kam2)

    assert http.get(account_url(world.a.pk)).status_code == 404
    assert http.get(f"/api/dashboards/account/{world.a.pk}/").status_code == 404
    assert http.get(kam_url(world.kam)).status_code == 404
    assert http.get(f"/api/dashboards/kam/{world.kam.pk}/").status_code == 404
    # A client in nobody's mandate is not theirs either.
    assert http.get(account_url(world.d.pk)).status_code == 404


def test_someone_without_a_role_is_refused_everywhere(
    world: World, outsider: User, client_as
) -> None:
    http = client_as(outsider)

    for path in (
        PORTFOLIO,
        kam_url(world.kam),
        account_url(world.a.pk),
        "/api/dashboards/portfolio/",
        f"/api/dashboards/kam/{world.kam.pk}/",
    ):
        assert http.get(path).status_code == 403, path


def test_a_kam_dashboard_is_only_for_kams(world: World, director: User, client_as) -> None:
    assert client_as(director).get(kam_url(director)).status_code == 404


def test_the_navigation_offers_dashboards_to_those_who_may_open_them(
    world: World, director: User, client_as
) -> None:
    assert '<a href="/committee/dashboards/">Dashboards</a>' in client_as(director).get("/").text
    assert ">Dashboards</a>" not in client_as(world.kam).get("/").text


# --- what the pages show ---------------------------------------------------------------------


def test_the_portfolio_shows_key_clients_and_their_share_against_the_policy(
    world: World, director: User, client_as
) -> None:
    page = client_as(director).get(PORTFOLIO).text
    tables = tables_of(page)

    # Q3 2026 is the latest quarter with snapshots: the default.
    assert 'data-testid="period-label">2026 Q3<' in page
    # One key client (A) in a range of 1–3: good; 1200 of 3000 sold is 40 %, target 50: bad.
    assert re.search(r'headline-value">1 <small>target 1–3', page)
    assert re.search(r'headline-value">40.0 <small>target 50.0', page)
    states = re.findall(r'data-testid="headline-state">([^<]+)<', page)
    assert states == ["On target", "Off target"]
    assert row_of(tables["key-clients"], "2026 Q3")[1:4] == ["1", "1", "3"]
    assert row_of(tables["key-clients"], "2026 Q3")[4].startswith("40.0")
    # Coverage of the last finished run: A 0.80, B 0.50, C 0.95, D 1.00.
    assert row_of(tables["coverage"], "80–90 %")[1:] == ["1", "1"]
    assert row_of(tables["coverage"], "90–100 %")[1:] == ["2", "0"]


def test_the_portfolio_lists_each_kam_with_the_state_of_their_kpis(
    world: World, director: User, client_as
) -> None:
    page = client_as(director).get(PORTFOLIO).text
    kams = tables_of(page)["kams"]

    # kam: revenue 1500 against 1400 (on target), margin 360 against 400 (watch, within the
    # 10 % band), exceptions 1 against 0 (off target), six KPIs without a target.
    assert row_of(kams, str(world.kam)) == [
        str(world.kam),
        "9",
        "1",
        "1",
        "1 Off target",
        "0",
        "6",
    ]
    assert row_of(kams, str(world.kam2))[1:] == ["9", "0", "0", "0", "0", "9"]
    assert f'href="{kam_url(world.kam)}?period=2026-07-01"' in page


def test_the_drift_block_is_the_drift_panels_counts(
    world: World, director: User, client_as
) -> None:
    """Every indicator of the panel, in its order, with its count: the block never says
    "Clear" beside a list the panel shows."""
    http = client_as(director)
    block = tables_of(http.get(PORTFOLIO).text)["drift"]
    panel = http.get(reverse("governance:drift"))

    counts = {indicator.title: indicator.count for indicator in panel.context["counts"]}
    assert [row[0] for row in block] == list(counts)
    for title, count in counts.items():
        figure = row_of(block, title)[1]
        assert figure.startswith(f"{count} "), (title, figure, count)
    assert counts["Exception requests past their answer date"] == 1


def test_a_kam_dashboard_shows_each_kpi_against_target_with_its_state(
    world: World, director: User, client_as
) -> None:
    page = client_as(director).get(kam_url(world.kam)).text
    tables = tables_of(page)

    assert row_of(tables["kpis"], "Revenue, RUB")[2:5] == ["at least 1,400", "1,500", "On target"]
    assert row_of(tables["kpis"], "Gross margin, RUB")[2:5] == ["at least 400", "360", "Watch"]
    assert row_of(tables["kpis"], "Exceptions")[2:5] == ["at most 0", "1", "Off target"]
    # A KPI with no target keeps its actual; "No target" is said once, not on every row.
    assert row_of(tables["kpis"], "Key share")[2:5] == ["—", "80.0", "—"]
    assert "No target</span>" not in page
    unaimed = re.search(r'data-testid="unaimed-kpis">(.*?)</p>', page, re.S)[1]
    assert unaimed.startswith("No target set for: Breaches, Budget used, Client satisfaction,")
    assert "Key share" in unaimed and "Revenue" not in unaimed
    assert "Set the targets" not in unaimed  # a director reads; the committee sets targets
    # Previous quarter: A 1000 + B 500.
    assert row_of(tables["kpis"], "Revenue, RUB")[5] == "1,500"
    # The trend is each KPI as a share of its target: 1500 / 1400.
    trend = tables["trend"]
    header = re.search(r'data-testid="table-trend">\s*<thead><tr>(.*?)</tr>', page, re.S)[1]
    revenue_column = re.findall(r"<th[^>]*>([^<]+)</th>", header).index("Revenue")
    assert row_of(trend, "2026 Q3")[revenue_column] == "107.1"
    assert row_of(trend, "2026 Q2")[revenue_column] == "—"  # no target then
    # The accounts of the mandate, A with its own target (1200 against 1000).
    accounts = tables["accounts"]
    assert [row[0] for row in accounts] == ["A", "B"]
    assert "1,200 On target" in row_of(accounts, "A")
    assert f'href="{account_url(world.a.pk)}?period=2026-07-01"' in page
    assert f'href="{PORTFOLIO}?period=2026-07-01"' in page  # the breadcrumb back


def test_an_account_dashboard_shows_figures_kpis_exceptions_and_budget(
    world: World, director: User, client_as
) -> None:
    page = client_as(director).get(account_url(world.a.pk)).text
    tables = tables_of(page)

    assert row_of(tables["kpis"], "Revenue, RUB")[1:] == ["at least 1,000", "1,200", "On target"]
    assert row_of(tables["figures"], "2026 Q3")[1:4] == ["1,200", "300", "25.0"]
    assert row_of(tables["figures"], "2026 Q2")[1] == "1,000"
    assert row_of(tables["coverage"], "2026 Q3")[1] == "80.0"
    # Approved in the quarter they were decided (Q3 and Q2); all four asked today (Q4).
    assert row_of(tables["exceptions"], "2026 Q3")[2:] == ["1", "0"]
    assert row_of(tables["exceptions"], "2026 Q2")[2:] == ["1", "0"]
    assert row_of(tables["budget"], "2026 Q3")[1:] == ["1,000", "300", "700", "30.0"]
    assert row_of(tables["budget"], "2026 Q2")[1:] == ["1,000", "999", "1", "99.9"]
    # Breadcrumbs: the portfolio, then the KAM the account is measured under.
    assert f'href="{kam_url(world.kam)}?period=2026-07-01"' in page


def test_the_period_selector_shows_another_quarter(world: World, director: User, client_as) -> None:
    page = client_as(director).get(kam_url(world.kam), {"period": "2026-04-01"}).text

    assert 'data-testid="period-label">2026 Q2<' in page
    assert '<option value="2026-04-01" selected>2026 Q2</option>' in page
    assert row_of(tables_of(page)["kpis"], "Revenue, RUB")[2:5] == ["—", "1,500", "—"]


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ("2026-05-01", "2026-05-01 is not the first day of a quarter"),
        ("last-year", "“last-year” is not a date"),
    ],
)
def test_an_unreadable_period_is_explained_not_a_server_error(
    period: str, message: str, world: World, director: User, client_as
) -> None:
    http = client_as(director)
    page = http.get(PORTFOLIO, {"period": period})

    assert page.status_code == 400
    assert message in page.text
    assert "Showing 2026 Q3 instead." in page.text
    api = http.get("/api/dashboards/portfolio/", {"period": period})
    assert api.status_code == 400
    assert message in api.json()["period"][0]


def test_a_quarter_without_snapshots_says_the_job_has_not_run(
    world: World, director: User, administrator: User, client_as
) -> None:
    page = client_as(director).get(PORTFOLIO, {"period": "2026-10-01"}).text

    assert "The snapshot job has not run for this quarter yet" in page
    assert "Periodic tasks" not in page  # the hint is for those who can act on it
    admin_page = client_as(administrator).get(PORTFOLIO, {"period": "2026-10-01"}).text
    assert "Periodic tasks" in admin_page
    assert "No KAM&#x27;s KPIs have been computed for this quarter." in page


def test_before_any_snapshot_the_dashboards_are_empty_not_broken(
    kam: User, director: User, account_of_kam, client_as
) -> None:
    http = client_as(director)

    for path in (PORTFOLIO, kam_url(kam), account_url(account_of_kam.pk)):
        page = http.get(path)
        assert page.status_code == 200
        assert "The snapshot job has not run for this quarter yet" in page.text


def test_the_api_carries_the_page_figures(world: World, director: User, client_as) -> None:
    board = client_as(director).get(f"/api/dashboards/kam/{world.kam.pk}/").json()

    assert board["period"] == "2026-07-01"
    kpis = next(t for t in board["tables"] if t["key"] == "kpis")
    revenue = next(row for row in kpis["rows"] if row[0] == "Revenue, RUB")
    assert revenue[2:5] == [1400, 1500, {"value": "On target", "state": "good"}]


# --- exports ---------------------------------------------------------------------------------


def _same(page_text: str, exported: object) -> bool:
    """A page cell and an exported value: the same number (the page groups thousands), the
    same text, or both empty. A target is worded on the page ("at most 1"), a number in the
    file."""
    if exported is None or exported == "":
        return page_text == "—"
    if isinstance(exported, int | float):
        number = re.sub(r"^at (least|most) ", "", page_text)
        return Decimal(number.replace(",", "")) == Decimal(str(exported))
    return page_text == exported


@pytest.mark.parametrize("which", ["portfolio", "kam", "account"])
def test_the_xlsx_export_holds_the_page_figures_one_sheet_per_table(
    which: str, world: World, director: User, client_as
) -> None:
    path = {"portfolio": PORTFOLIO, "kam": kam_url(world.kam), "account": account_url(world.a.pk)}
    http = client_as(director)
    page_tables = tables_of(http.get(path[which]).text)

    response = http.get(path[which], {"format": "xlsx"})

    assert response.status_code == 200
    assert "2026-Q3.xlsx" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    # Every table is a sheet; the page shows those that have rows.
    filled = [sheet for sheet in workbook.worksheets if sheet.max_row > 2]
    assert len(filled) == len(page_tables)
    for sheet, (key, rows) in zip(filled, page_tables.items(), strict=True):
        header = [c.value for c in sheet[2]]
        states = {i for i, name in enumerate(header) if str(name).endswith(": state")}
        exported = [
            [value for i, value in enumerate(row) if i not in states]
            for row in sheet.iter_rows(min_row=3, values_only=True)
        ]
        assert len(exported) == len(rows), key
        for page_row, file_row in zip(rows, exported, strict=True):
            shown = [re.sub(f" ({STATES})$", "", c) for c in page_row]
            assert len(shown) == len(file_row), key
            assert all(_same(a, b) for a, b in zip(shown, file_row, strict=True)), (
                key,
                shown,
                file_row,
            )


def csv_files(response) -> dict[str, bytes]:
    """The CSV files of a ZIP export, by name."""
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_csv_export_opens_in_excel_and_holds_the_page_figures(
    world: World, director: User, client_as
) -> None:
    """Several tables: a ZIP of one CSV per table, each a table a spreadsheet opens as is."""
    http = client_as(director)

    response = http.get(account_url(world.a.pk), {"format": "csv", "period": "2026-07-01"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    # Named by the client and the quarter: no database id, no login.
    assert response["Content-Disposition"].endswith('skam-account-a-2026-Q3.zip"')
    files = csv_files(response)
    assert len(files) == 6
    budget = next(
        content for name, content in files.items() if name.endswith("-budget-by-quarter.csv")
    )
    assert budget.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(budget.decode("utf-8-sig"))))
    # Amounts say their currency in the header, once per column.
    assert lines[0] == ["Quarter", "Allocated, RUB", "Spent, RUB", "Remaining, RUB", "Used, %"]
    assert lines[1] == ["2026 Q2", "1000", "999", "1", "99.9"]
    assert lines[2] == ["2026 Q3", "1000", "300", "700", "30.0"]


def test_the_russian_csv_is_separated_by_semicolons_with_decimal_commas(
    world: World, director: User, client_as
) -> None:
    http = client_as(director)
    http.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"

    response = http.get(account_url(world.a.pk), {"format": "csv", "period": "2026-07-01"})

    budget = next(content for name, content in csv_files(response).items() if "-biudzhet-" in name)
    assert budget.startswith("\ufeff".encode())
    # Read back as Russian Excel does: ";" between fields, "," before the decimals.
    lines = list(csv.reader(io.StringIO(budget.decode("utf-8-sig")), delimiter=";"))
    assert [header.rpartition(", ")[2] for header in lines[0][1:4]] == ["₽", "₽", "₽"]
    assert lines[1] == ["II кв. 2026", "1000", "999", "1", "99,9"]
    assert Decimal(lines[2][4].replace(",", ".")) == Decimal("30.0")


def test_the_xlsx_holds_numbers_formatted_under_a_frozen_header(
    world: World, director: User, client_as
) -> None:
    http = client_as(director)
    http.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"

    response = http.get(account_url(world.a.pk), {"format": "xlsx", "period": "2026-07-01"})

    workbook = load_workbook(io.BytesIO(response.content))
    sheet = next(s for s in workbook.worksheets if s["A1"].value == "Бюджет по кварталам")
    assert sheet.freeze_panes == "A3"
    used = next(row for row in sheet.iter_rows(min_row=3) if row[0].value == "II кв. 2026")
    assert used[4].value == pytest.approx(99.9)
    assert used[4].number_format == "#,##0.0"
    assert used[1].number_format == "#,##0"
    assert all(len(s.title) <= 31 for s in workbook.worksheets)


def test_a_long_sheet_name_is_cut_at_a_word() -> None:
    assert _shortened("Key clients and their share of sales") == "Key clients and their share…"
    assert _shortened("Budget by quarter") == "Budget by quarter"


def test_exports_are_refused_like_the_pages(world: World, client_as) -> None:
    http = client_as(world.kam2)

    assert http.get(PORTFOLIO, {"format": "xlsx"}).status_code == 403
    assert http.get(account_url(world.a.pk), {"format": "csv"}).status_code == 404


# --- cost ------------------------------------------------------------------------------------


def _grow_the_register(world: World) -> None:
    """More clients with figures, another KAM with a mandate, all snapshotted again."""
    extra = ClientFactory.create_batch(30)
    for client in extra:
        FigureFactory(client=client, period=Q)
    third = UserFactory(username="kam3", role="kam")
    make_mandate(third, extra[:5])
    KpiTarget.objects.create(
        kpi=world.kpis["revenue"], mandate=world.mandate, client=world.b, period=Q, target=1
    )
    snapshot_quarter(Q, now=NOW)


# After signing in (``SIGN_IN_QUERIES``), what building each page costs. The portfolio's drift
# block counts each indicator of the drift panel in a query of its own (eleven, and the last run
# and the policy they depend on).
PORTFOLIO_QUERIES = SIGN_IN_QUERIES + 20
KAM_QUERIES = SIGN_IN_QUERIES + 6
ACCOUNT_QUERIES = SIGN_IN_QUERIES + 10


@pytest.mark.parametrize(
    ("which", "queries"),
    [("portfolio", PORTFOLIO_QUERIES), ("kam", KAM_QUERIES), ("account", ACCOUNT_QUERIES)],
)
def test_a_dashboard_costs_the_same_queries_however_big_the_register(
    which: str, queries: int, world: World, director: User, client_as, django_assert_num_queries
) -> None:
    path = {"portfolio": PORTFOLIO, "kam": kam_url(world.kam), "account": account_url(world.a.pk)}
    http = client_as(director)

    with django_assert_num_queries(queries):
        assert http.get(path[which]).status_code == 200
    _grow_the_register(world)
    with django_assert_num_queries(queries):
        assert http.get(path[which]).status_code == 200


def test_the_api_costs_no_more_queries_than_the_page(
    world: World, director: User, client_as, django_assert_num_queries
) -> None:
    http = client_as(director)
    with django_assert_num_queries(KAM_QUERIES):
        assert http.get(f"/api/dashboards/kam/{world.kam.pk}/").status_code == 200


def test_a_kam_period_is_measured_under_the_mandate_of_that_quarter(
    world: World, director: User, client_as
) -> None:
    """A mandate granted later does not rewrite an earlier quarter's targets."""
    later = make_mandate(world.kam, [world.a], valid_from=datetime.date(2026, 10, 1))
    KpiTarget.objects.create(kpi=world.kpis["revenue"], mandate=later, period=Q, target=9999)

    page = client_as(director).get(kam_url(world.kam), {"period": "2026-07-01"}).text

    assert row_of(tables_of(page)["kpis"], "Revenue, RUB")[2:5] == [
        "at least 1,400",
        "1,500",
        "On target",
    ]


def test_an_account_shows_the_target_of_the_mandate_that_counts_in_the_quarter(
    world: World, director: User, kam: User, client_as
) -> None:
    """As on the KAM's page: a draft's targets, or a later mandate's, do not replace the target
    the account was measured against; a KAM opens the accounts of a superseded mandate too."""
    draft = Mandate.objects.create(kam=world.kam, title="Draft", valid_from=Q)
    MandateAccount.objects.create(mandate=draft, client=world.a)
    later = make_mandate(world.kam, [world.b], valid_from=datetime.date(2026, 10, 1))
    for mandate, target in ((draft, 9999), (later, 8888)):
        KpiTarget.objects.create(
            kpi=world.kpis["revenue"], mandate=mandate, client=world.a, period=Q, target=target
        )

    for reader in (director, kam):
        page = client_as(reader).get(account_url(world.a.pk), {"period": "2026-07-01"})
        assert page.status_code == 200
        assert row_of(tables_of(page.text)["kpis"], "Revenue, RUB")[1:] == [
            "at least 1,000",
            "1,200",
            "On target",
        ]


# --- pages kept built (governance/kpis/cache.py) ---------------------------------------------

# Who reads, and what they may see; then who the page is about, read by the same access rule
# (governance/kpis/access.py) as a page built afresh. Building one costs 6 to 10 queries more.
PORTFOLIO_KEPT_QUERIES = SIGN_IN_QUERIES
KAM_KEPT_QUERIES = SIGN_IN_QUERIES + 1  # the KAM
ACCOUNT_KEPT_QUERIES = SIGN_IN_QUERIES + 1  # the client


@pytest.mark.parametrize(
    ("which", "queries"),
    [
        ("portfolio", PORTFOLIO_KEPT_QUERIES),
        ("kam", KAM_KEPT_QUERIES),
        ("account", ACCOUNT_KEPT_QUERIES),
    ],
)
def test_a_page_read_again_is_served_as_built_without_building_it(
    which: str, queries: int, world: World, director: User, client_as, django_assert_num_queries
) -> None:
    path = {"portfolio": PORTFOLIO, "kam": kam_url(world.kam), "account": account_url(world.a.pk)}
    http = client_as(director)
    first = http.get(path[which])

    with django_assert_num_queries(queries):
        again = http.get(path[which])

    assert again.status_code == 200
    assert tables_of(again.text) == tables_of(first.text)
    assert 'data-testid="as-of"' in again.text


def test_a_changed_target_shows_on_the_next_request(
    world: World, director: User, client_as
) -> None:
    http = client_as(director)
    assert (
        row_of(tables_of(http.get(kam_url(world.kam)).text)["kpis"], "Revenue, RUB")[2]
        == "at least 1,400"
    )

    target = KpiTarget.objects.get(
        kpi=world.kpis["revenue"], mandate=world.mandate, period=Q, client=None
    )
    target.target = 2000
    target.save()

    kpis = tables_of(http.get(kam_url(world.kam)).text)["kpis"]
    assert row_of(kpis, "Revenue, RUB")[2:5] == ["at least 2,000", "1,500", "Off target"]
    target.delete()
    kpis = tables_of(http.get(kam_url(world.kam)).text)["kpis"]
    assert row_of(kpis, "Revenue, RUB")[2:5] == ["—", "1,500", "—"]


def test_targets_saved_on_the_committees_page_show_on_the_next_request(
    world: World, director: User, member: User, client_as
) -> None:
    """The page writes targets in bulk, which sends no signal: it tells the dashboards itself."""
    http = client_as(director)
    assert (
        row_of(tables_of(http.get(kam_url(world.kam)).text)["kpis"], "Revenue, RUB")[2]
        == "at least 1,400"
    )
    targets = list(KpiTarget.objects.filter(mandate=world.mandate).order_by("pk"))
    data = {"targets-TOTAL_FORMS": len(targets), "targets-INITIAL_FORMS": len(targets)}
    for number, target in enumerate(targets):
        revenue = target.kpi == world.kpis["revenue"] and target.client is None
        data.update({
            f"targets-{number}-id": target.pk, f"targets-{number}-kpi": target.kpi_id,
            f"targets-{number}-period": target.period.isoformat(),
            f"targets-{number}-client": target.client_id or "",
            f"targets-{number}-target": "2000" if revenue else target.target,
        })  # fmt: skip

    saved = client_as(member).post(f"/committee/mandates/{world.mandate.pk}/targets/", data)

    assert saved.status_code == 302
    kpis = tables_of(http.get(kam_url(world.kam)).text)["kpis"]
    assert row_of(kpis, "Revenue, RUB")[2:5] == ["at least 2,000", "1,500", "Off target"]


def test_a_new_snapshot_shows_on_the_next_request(world: World, director: User, client_as) -> None:
    http = client_as(director)
    page = http.get(PORTFOLIO).text
    assert row_of(tables_of(page)["key-clients"], "2026 Q3")[7] == "3,000"
    # Figures imported in bulk (no signal sees that): only the job's run makes them show.
    ClientFigure.objects.filter(client=world.d, period=Q).update(revenue=1500)
    assert row_of(tables_of(http.get(PORTFOLIO).text)["key-clients"], "2026 Q3")[7] == "3,000"

    snapshot_quarter(Q, now=NOW)

    page = http.get(PORTFOLIO).text
    assert row_of(tables_of(page)["key-clients"], "2026 Q3")[7] == "4,000"
    assert re.search(r'headline-value">30.0 <small>target 50.0', page)


def test_a_hand_entry_shows_on_the_next_request(world: World, director: User, client_as) -> None:
    http = client_as(director)
    kpis = tables_of(http.get(kam_url(world.kam)).text)["kpis"]
    assert row_of(kpis, "Client satisfaction")[3] == "—"

    kpi_entry_record(
        kpi=world.kpis["nps"],
        period=Q,
        kam=world.kam,
        client=None,
        value=Decimal(80),
        note="Survey",
        by=director,  # nobody records their own actuals
    )

    kpis = tables_of(http.get(kam_url(world.kam)).text)["kpis"]
    assert row_of(kpis, "Client satisfaction")[3] == "80.0"
    portfolio = tables_of(http.get(PORTFOLIO).text)["portfolio-kpis"]
    assert row_of(portfolio, "Client satisfaction")[-1] == "80.0"


def test_a_request_past_its_answer_date_shows_in_the_drift_on_the_next_request(
    world: World, director: User, client_as
) -> None:
    http = client_as(director)
    label = "Exception requests past their answer date"
    assert row_of(tables_of(http.get(PORTFOLIO).text)["drift"], label)[1].startswith("1 ")

    ExceptionRequest.objects.create(
        mandate=world.mandate,
        client=world.a,
        requested_by=world.kam,
        justification="Tender",
        approver=Approver.HEAD_OF_KAM,
        respond_by=timezone.now() - datetime.timedelta(days=1),
    )

    assert row_of(tables_of(http.get(PORTFOLIO).text)["drift"], label)[1].startswith("2 ")


def test_what_one_role_is_offered_does_not_show_to_another(
    world: World, director: User, administrator: User, client_as
) -> None:
    # The administrator sees first where the job is scheduled; the director then must not.
    empty = {"period": "2026-10-01"}
    assert "Periodic tasks" in client_as(administrator).get(PORTFOLIO, empty).text
    assert "Periodic tasks" not in client_as(director).get(PORTFOLIO, empty).text
    # A director's KAM page links back to the portfolio; the KAM's own does not.
    back = f'href="{PORTFOLIO}?period=2026-07-01"'
    assert back in client_as(director).get(kam_url(world.kam)).text
    own = client_as(world.kam).get(kam_url(world.kam)).text
    assert back not in own
    assert "My KPIs" in own
    assert back in client_as(director).get(kam_url(world.kam)).text


def test_a_page_kept_built_is_refused_like_any_other(
    world: World, director: User, outsider: User, client_as
) -> None:
    director_http = client_as(director)
    for path in (kam_url(world.kam), account_url(world.a.pk)):
        assert director_http.get(path).status_code == 200

    assert client_as(world.kam2).get(kam_url(world.kam)).status_code == 404
    assert client_as(world.kam2).get(account_url(world.a.pk)).status_code == 404
    assert client_as(outsider).get(kam_url(world.kam)).status_code == 403
    assert client_as(outsider).get(account_url(world.a.pk)).status_code == 403
    assert client_as(world.kam).get(kam_url(world.kam)).status_code == 200


def test_someone_no_longer_a_kam_has_no_dashboard_even_one_kept_built(
    world: World, director: User, client_as
) -> None:
    newcomer = UserFactory(username="kam.newcomer", role="kam")
    http = client_as(director)
    assert http.get(kam_url(newcomer)).status_code == 200

    newcomer.groups.clear()  # the kept page is renewed with the roles

    assert http.get(kam_url(newcomer)).status_code == 404


def test_the_default_quarter_is_todays_with_what_is_known_so_far(
    world: World, director: User, kam: User, client_as
) -> None:
    """The nightly job snapshots today's quarter: the pages open on it, saying it is not over;
    the last whole quarter is one choice away."""
    today = timezone.localdate()
    current = datetime.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    snapshot_quarter(current)

    for reader, path in ((director, PORTFOLIO), (kam, kam_url(world.kam))):
        page = client_as(reader).get(path).text
        assert 'data-testid="period-label">2026 Q4, so far<' in page
        assert '<option value="2026-07-01">2026 Q3</option>' in page
    page = client_as(director).get(PORTFOLIO, {"period": "2026-07-01"}).text
    assert 'data-testid="period-label">2026 Q3<' in page  # a whole quarter: no "so far"


def test_without_todays_snapshot_the_pages_open_on_the_latest_before_it(
    world: World, director: User, client_as
) -> None:
    page = client_as(director).get(PORTFOLIO).text
    assert 'data-testid="period-label">2026 Q3<' in page


def test_a_target_says_which_way_its_kpi_points(world: World, director: User, client_as) -> None:
    """ "at most 0" exceptions is a limit; a bare "0" read as a goal."""
    http = client_as(director)
    kpis = tables_of(http.get(kam_url(world.kam)).text)["kpis"]
    assert row_of(kpis, "Exceptions")[2] == "at most 0"
    assert row_of(kpis, "Revenue, RUB")[2] == "at least 1,400"
    http.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    kpis = tables_of(http.get(kam_url(world.kam)).text)["kpis"]
    assert row_of(kpis, "Exceptions")[2] == "не более 0"
    assert row_of(kpis, "Revenue, ₽")[2] == "не менее 1 400"  # grouped, spaces collapsed


def test_my_mandate_says_which_way_each_target_points(world: World, client_as) -> None:
    current = datetime.date(2026, 10, 1)
    for code, target in (("breaches", 1), ("revenue", 2000)):
        KpiTarget.objects.create(
            kpi=world.kpis[code], mandate=world.mandate, period=current, target=target
        )
    http = client_as(world.kam)
    page = http.get(reverse("governance:my-mandate")).text
    kpis = page.split('data-testid="mandate-kpis"')[1].split("</table>")[0]
    assert re.search(r"<td>Breaches</td>\s*<td class=\"num\">at most 1</td>", kpis)
    # A money KPI's target says the company's currency.
    assert re.search(r"<td>Revenue</td>\s*<td class=\"num\">at least 2,000\xa0RUB</td>", kpis)
    http.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    page = http.get(reverse("governance:my-mandate")).text
    assert "не более 1</td>" in page


def test_every_amount_says_the_companys_currency(
    world: World, director: User, client_as, settings
) -> None:
    """The figures, the budget, money KPIs and the chart's axis: the currency of the setting,
    its ISO code in English and its sign in Russian."""
    settings.SKAM_CURRENCY = "EUR"
    http = client_as(director)
    page = http.get(account_url(world.a.pk)).text
    header = re.search(r'data-testid="table-figures">\s*<thead><tr>(.*?)</tr>', page, re.S)[1]
    assert re.findall(r"<th[^>]*>([^<]+)</th>", header)[1:3] == [
        "Revenue, EUR",
        "Gross margin, EUR",
    ]
    assert "Allocated, EUR" in page
    assert row_of(tables_of(page)["kpis"], "Revenue, EUR")
    figures = next(chart for chart in page_charts(page) if chart["key"] == "figures")
    assert figures["y_label"] == "EUR"
    http.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    page = http.get(account_url(world.a.pk)).text
    assert row_of(tables_of(page)["kpis"], "Revenue, €")
    assert "Roubles" not in page and "Рубли" not in page


def test_the_kam_table_counts_kpis_with_a_target_but_no_actual_yet(
    world: World, director: User, client_as
) -> None:
    """A target on a hand-entered KPI nobody has entered: "no actual yet", so that each row's
    states add up to the KPIs measured."""
    KpiTarget.objects.create(kpi=world.kpis["nps"], mandate=world.mandate, period=Q, target=80)
    page = client_as(director).get(PORTFOLIO).text
    row = row_of(tables_of(page)["kams"], str(world.kam))
    header = re.search(r'data-testid="table-kams">\s*<thead><tr>(.*?)</tr>', page, re.S)[1]
    assert re.findall(r"<th[^>]*>([^<]+)</th>", header)[5] == "No actual yet"
    assert row[1:] == ["9", "1", "1", "1 Off target", "1", "5"]
    assert sum(int(cell.split()[0]) for cell in row[2:]) == int(row[1])


def test_a_target_on_a_kpi_not_yet_snapshotted_is_counted_in_the_kam_row(
    world: World, director: User, client_as
) -> None:
    """A KPI added to the catalogue after the night's snapshot, with a target: counted as "no
    actual yet", and the row still adds up (on target + watch + off target + no actual yet +
    no target = the KPIs)."""
    late = KpiFactory(code="visits", name="Visits")
    KpiTarget.objects.create(kpi=late, mandate=world.mandate, period=Q, target=12)
    page = client_as(director).get(f"{PORTFOLIO}?period={Q.isoformat()}").text
    row = row_of(tables_of(page)["kams"], str(world.kam))
    assert row[1] == "10" and row[5] == "1"
    assert sum(int(cell.split()[0]) for cell in row[2:]) == int(row[1])


def test_quarters_without_decisions_say_so_rather_than_draw_an_empty_chart(
    world: World, director: User, client_as
) -> None:
    page = client_as(director).get(PORTFOLIO)
    assert "No decisions in these quarters." in page.text
    assert "decisions" not in tables_of(page.text)
    drawn = {chart["key"]: chart for chart in page_charts(page.text)}
    assert "decisions" not in drawn
    assert drawn["coverage"]["integer"] is True  # counts of clients step by whole numbers
    assert drawn["key-clients"]["integer"] is False


def test_an_account_without_targets_says_so_once_not_on_every_row(
    world: World, director: User, client_as
) -> None:
    http = client_as(director)
    page = http.get(account_url(world.b.pk)).text
    kpis = tables_of(page)["kpis"]
    assert len(kpis) == 9 and all(len(row) == 2 for row in kpis)  # KPI and actual only
    assert "No target</span>" not in page
    assert page.count("No target set for: ") == 1

    # A's revenue has a target: it comes first with its state, the eight others after it.
    page = http.get(account_url(world.a.pk)).text
    kpis = tables_of(page)["kpis"]
    assert kpis[0] == ["Revenue, RUB", "at least 1,000", "1,200", "On target"]
    assert "No target</span>" not in page
    unaimed = re.search(r'data-testid="unaimed-kpis">(.*?)</p>', page, re.S)[1]
    assert unaimed.count(", ") == 7 and "Revenue" not in unaimed


def test_whoever_sets_targets_is_linked_from_the_kpis_with_none(
    world: World, member: User, kam: User, client_as
) -> None:
    """The committee sets targets: the one line naming the KPIs without one links it to the
    mandate's targets; a KAM reads the same line with no link."""
    targets = reverse("governance:mandate-targets", args=[world.mandate.pk])
    for url in (kam_url(world.kam), account_url(world.a.pk)):
        page = client_as(member).get(f"{url}?period={Q.isoformat()}").text
        unaimed = re.search(r'data-testid="unaimed-kpis">(.*?)</p>', page, re.S)[1]
        assert f'href="{targets}"' in unaimed and "Set the targets" in unaimed
    page = client_as(kam).get(f"{kam_url(kam)}?period={Q.isoformat()}").text
    unaimed = re.search(r'data-testid="unaimed-kpis">(.*?)</p>', page, re.S)[1]
    assert "No target set for:" in unaimed and "href" not in unaimed
