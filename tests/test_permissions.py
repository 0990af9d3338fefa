"""Who may open what: every page and API endpoint, requested as every role, with the status each
one must get. The navigation shows each role only the sections it may use, and no GET of any
page or API list fails with a server error, whoever asks and whatever the query string says."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from importlib import import_module

import pytest
import time_machine
from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from pytest_django import DjangoDbBlocker

from accounts.imports import import_check
from accounts.models import Client, ImportKind, User
from accounts.periods import quarter_start
from accounts.roles import Role
from criteria.evaluation import run_start
from criteria.models import (
    Evaluation,
    NeedCoverage,
    ReviewItem,
    ReviewKind,
    RulerStatus,
    RulerVersion,
    StrategicFitRating,
)
from governance.committee.meetings import meeting_create
from governance.committee.proposals import proposal_close, proposal_create, proposal_open, vote_cast
from governance.kpis.figures import kpi_entry_record
from governance.kpis.snapshots import snapshot_quarter
from governance.models import (
    Absence,
    Budget,
    CommitteeMember,
    DepartmentObligation,
    EscalationTier,
    Kpi,
    KpiSnapshot,
    KpiTarget,
    Mandate,
    MandateAccount,
    Proposal,
    RecordEntry,
    RelationshipMethod,
    SituationType,
)
from governance.shell.budgets import budget_spend
from governance.shell.departments import department_request
from governance.shell.exception_requests import exception_file
from governance.shell.incidents import incident_declare
from governance.shell.mandates import mandate_adopt
from skam.context_processors import NAVIGATION
from tests.factories import (
    PASSWORD,
    ClientFactory,
    FigureFactory,
    NeedFactory,
    TeamMemberFactory,
    UserFactory,
    USPFactory,
    meets_the_ruler,
)

pytestmark = pytest.mark.django_db


ROLES = ("anonymous", "outsider", "chair", "member", "kam", "kam2", "director", "administrator")

# The places in a path:
#   {kam}, {kam2}  the account owned by kam / by kam2;
#   {shared}       an account owned by kam2 with kam on its team;
#   {missing}      a client id that does not exist;
#   {need}, {figure}  a need and a figure of kam's account;
#   {batch}        a checked client import;
#   {usp}          a USP; {coverage}  another USP's coverage of kam's {need};
#   {ruler}, {draft}  the ruler version in force, and a draft;
#   {run}          a run in progress; {eval_kam}, {eval_kam2}  its evaluations of kam's and
#                  kam2's accounts; {item}  an open review item of kam's account;
#   {rating}       a fit rating of kam's account.
#   {meeting}      a meeting of the committee.
# Anonymous users are sent to the login page (302) by pages and asked for credentials (401, with
# WWW-Authenticate) by the API (it answered 403 before tokens came first); the admin sends
# everyone who is not staff to its own login (302).
# fmt: off
MATRIX: list[tuple[str, str, int, int, int, int, int, int, int, int]] = [
    # method  path                                 anon outs chair memb  kam kam2  dir admin
    ("GET",   "/",                                  302, 200, 200, 200, 200, 200, 200, 200),
    ("GET",   "/login/",                            200, 302, 302, 302, 302, 302, 302, 302),
    ("POST",  "/logout/",                           302, 302, 302, 302, 302, 302, 302, 302),
    ("POST",  "/i18n/setlang/",                     302, 302, 302, 302, 302, 302, 302, 302),
    # Single sign-on through the company's provider: no such page while it is off, as here
    # (tests/accounts/test_sso.py switches it on).
    ("GET",   "/oidc/authenticate/",                404, 404, 404, 404, 404, 404, 404, 404),
    ("GET",   "/oidc/callback/",                    404, 404, 404, 404, 404, 404, 404, 404),
    # One's own account and password; the link to set it is for anyone who has it.
    ("GET",   "/account/",                          302, 200, 200, 200, 200, 200, 200, 200),
    ("GET",   "/account/password/",                 302, 200, 200, 200, 200, 200, 200, 200),
    ("GET",   "/account/password/done/",            302, 200, 200, 200, 200, 200, 200, 200),
    ("GET",   "/password/forgotten/",               200, 200, 200, 200, 200, 200, 200, 200),
    ("GET",   "/password/sent/",                    200, 200, 200, 200, 200, 200, 200, 200),
    ("GET",   "/password/MQ/not-a-token/",          200, 200, 200, 200, 200, 200, 200, 200),
    ("GET",   "/password/done/",                    200, 200, 200, 200, 200, 200, 200, 200),
    ("POST",  "/account/tokens/revoke/",            302, 302, 302, 302, 302, 302, 302, 302),
    ("GET",   "/admin/password_change/",            302, 302, 302, 302, 302, 302, 302, 302),
    # My API tokens: listed and revoked by me; logging out needs the token itself.
    ("GET",   "/api/auth/tokens/",                  401, 200, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/auth/tokens/" + "0" * 128 + "/", 401, 405, 405, 405, 405, 405, 405, 405),
    ("POST",  "/api/auth/logout/",                  401, 401, 401, 401, 401, 401, 401, 401),
    ("POST",  "/api/auth/logout-all/",              401, 401, 401, 401, 401, 401, 401, 401),
    # The client register.
    ("GET",   "/clients/",                          302, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/clients/{kam}/",                    302, 403, 200, 200, 200, 404, 200, 200),
    ("GET",   "/clients/{kam2}/",                   302, 403, 200, 200, 404, 200, 200, 200),
    ("GET",   "/clients/{shared}/",                 302, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/clients/{missing}/",                302, 403, 404, 404, 404, 404, 404, 404),
    ("GET",   "/clients/new/",                      302, 403, 403, 403, 403, 403, 403, 200),
    ("GET",   "/clients/{kam}/edit/",               302, 403, 403, 403, 403, 403, 403, 200),
    ("GET",   "/clients/{kam}/needs/",              302, 403, 403, 403, 200, 404, 403, 200),
    ("GET",   "/clients/{kam2}/needs/",             302, 403, 403, 403, 404, 200, 403, 200),
    ("GET",   "/clients/{shared}/needs/",           302, 403, 403, 403, 200, 200, 403, 200),
    ("GET",   "/clients/{kam}/figures/",            302, 403, 403, 403, 403, 403, 403, 200),
    # Imports: the administrator's alone.
    ("GET",   "/clients/imports/",                  302, 403, 403, 403, 403, 403, 403, 200),
    ("GET",   "/clients/imports/{batch}/",          302, 403, 403, 403, 403, 403, 403, 200),
    ("GET",   "/clients/imports/{batch}/confirm/",  302, 403, 403, 403, 403, 403, 403, 405),
    ("POST",  "/clients/imports/{batch}/confirm/",  302, 403, 403, 403, 403, 403, 403, 302),
    ("POST",  "/clients/imports/{batch}/retry/",    302, 403, 403, 403, 403, 403, 403, 302),
    # No encoding named: refused as such (the matrix posts nothing).
    ("GET",   "/clients/imports/{batch}/encoding/", 302, 403, 403, 403, 403, 403, 403, 405),
    ("POST",  "/clients/imports/{batch}/encoding/", 302, 403, 403, 403, 403, 403, 403, 400),
    ("GET",   "/clients/imports/{batch}/errors/",   302, 403, 403, 403, 403, 403, 403, 200),
    ("GET",   "/admin/",                            302, 302, 302, 302, 302, 302, 302, 200),
    # The ruler: the committee, directors and the administrator; a KAM sees own scorecards.
    ("GET",   "/ruler/",                            302, 403, 200, 200, 403, 403, 200, 200),
    ("POST",  "/ruler/runs/start/",                 302, 403, 302, 302, 403, 403, 403, 302),
    ("GET",   "/ruler/runs/{run}/",                 302, 403, 200, 200, 403, 403, 200, 200),
    ("GET",   "/ruler/clients/{kam}/",              302, 403, 200, 200, 200, 404, 200, 200),
    ("GET",   "/ruler/clients/{kam2}/",             302, 403, 200, 200, 404, 200, 200, 200),
    ("GET",   "/ruler/clients/{kam}/coverage/",     302, 403, 200, 200, 200, 404, 200, 200),
    ("POST",  "/ruler/clients/{kam}/coverage/",     302, 403, 302, 302, 403, 404, 403, 302),
    ("GET",   "/ruler/portfolio/",                  302, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/ruler/usps/",                       302, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/ruler/usps/new/",                   302, 403, 403, 403, 403, 403, 403, 200),
    ("GET",   "/ruler/usps/{usp}/",                 302, 403, 403, 403, 403, 403, 403, 200),
    ("GET",   "/ruler/versions/{draft}/",           302, 403, 200, 200, 200, 200, 200, 200),
    ("POST",  "/ruler/versions/{draft}/",           302, 403, 302, 302, 403, 403, 403, 302),
    ("POST",  "/ruler/versions/new/",               302, 403, 302, 302, 403, 403, 403, 302),
    # The committee: members propose and vote; directors and the administrator follow.
    ("GET",   "/committee/proposals/",              302, 403, 200, 200, 403, 403, 200, 200),
    ("GET",   "/committee/proposals/new/",          302, 403, 200, 200, 403, 403, 403, 403),
    ("GET",   "/committee/proposals/new/grant_key/", 302, 403, 200, 200, 403, 403, 403, 403),
    ("POST",  "/committee/proposals/new/seat_end/", 302, 403, 200, 200, 403, 403, 403, 403),
    ("GET",   "/committee/proposals/{proposal}/",   302, 403, 200, 200, 403, 403, 200, 200),
    ("POST",  "/committee/proposals/{proposal}/",   302, 403, 302, 302, 403, 403, 403, 403),
    ("POST",  "/committee/proposals/{proposal}/close/", 302, 403, 302, 403, 403, 403, 403, 403),
    ("GET",   "/committee/decisions/",              302, 403, 200, 200, 403, 403, 200, 200),
    ("GET",   "/committee/drift/",                  302, 403, 200, 200, 403, 403, 200, 200),
    ("GET",   "/committee/policy/",                 302, 403, 200, 200, 403, 403, 200, 200),
    ("GET",   "/committee/my-mandate/",             302, 403, 403, 403, 200, 200, 403, 403),
    ("GET",   "/committee/mandates/",               302, 403, 200, 200, 403, 403, 200, 200),
    ("GET",   "/committee/mandates/{mandate}/",     302, 403, 200, 200, 403, 403, 200, 200),
    # Drafting mandates: the committee drafts (never its own), directors and the administrator
    # read, a KAM reads their own; kam's mandate in force is copied into a change.
    ("GET",   "/committee/mandates/drafting/",      302, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/committee/mandates/drafting/new/",  302, 403, 200, 200, 403, 403, 403, 403),
    ("GET",   "/committee/mandates/{mandate}/draft/", 302, 403, 200, 200, 200, 404, 200, 200),
    # The draft's account picker: the committee's, on a draft only (this one is in force).
    ("GET",   "/committee/mandates/{mandate}/draft/clients/", 302, 403, 403, 403, 403, 404, 403, 403),  # noqa: E501
    ("POST",  "/committee/mandates/{mandate}/copy/", 302, 403, 302, 302, 403, 404, 403, 403),
    ("GET",   "/committee/mandates/{mandate}/compare/", 302, 403, 200, 200, 200, 404, 200, 200),
    # Not a draft: the page sends a member back to it.
    ("GET",   "/committee/mandates/{mandate}/propose/", 302, 403, 302, 302, 403, 403, 403, 403),
    # KPIs: the committee sets targets; the committee, directors and the administrator enter
    # actuals by hand; a KAM reads only their own targets and snapshots.
    ("GET",   "/committee/mandates/{mandate}/targets/", 302, 403, 200, 200, 403, 403, 403, 403),
    ("GET",   "/committee/kpis/entries/",           302, 403, 200, 200, 403, 403, 200, 200),
    ("POST",  "/committee/kpis/entries/",           302, 403, 302, 302, 403, 403, 302, 302),
    ("GET",   "/api/kpis/",                         401, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/kpis/{kpi}/",                   401, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/kpi-targets/",                  401, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/kpi-targets/{kpitarget}/",      401, 403, 200, 200, 200, 404, 200, 200),
    ("PATCH", "/api/kpi-targets/{kpitarget}/",      401, 403, 200, 200, 403, 403, 403, 403),
    ("GET",   "/api/kpi-entries/",                  401, 403, 200, 200, 403, 403, 200, 200),
    ("GET",   "/api/kpi-entries/{kpientry}/",       401, 403, 200, 200, 403, 403, 200, 200),
    ("POST",  "/api/kpi-entries/",                  401, 403, 201, 201, 403, 403, 201, 201),
    ("GET",   "/api/kpi-snapshots/",                401, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/kpi-snapshots/{snap_portfolio}/", 401, 403, 200, 200, 404, 404, 200, 200),
    ("GET",   "/api/kpi-snapshots/{snap_kam}/",     401, 403, 200, 200, 200, 404, 200, 200),
    # Dashboards: directors, the committee and the administrator see all; a KAM their own KPIs
    # and their mandate's accounts (another's are not found), never the portfolio.
    ("GET",   "/committee/dashboards/",             302, 403, 200, 200, 403, 403, 200, 200),
    ("GET",   "/committee/dashboards/kam/{kam_user}/", 302, 403, 200, 200, 200, 404, 200, 200),
    ("GET",   "/committee/dashboards/kam/{kam2_user}/", 302, 403, 200, 200, 404, 200, 200, 200),
    ("GET",   "/committee/dashboards/account/{kam}/", 302, 403, 200, 200, 200, 404, 200, 200),
    ("GET",   "/committee/dashboards/account/{kam2}/", 302, 403, 200, 200, 404, 404, 200, 200),
    ("GET",   "/committee/dashboards/account/{missing}/", 302, 403, 404, 404, 404, 404, 404, 404),
    ("GET",   "/api/dashboards/portfolio/",         401, 403, 200, 200, 403, 403, 200, 200),
    ("GET",   "/api/dashboards/kam/{kam_user}/",    401, 403, 200, 200, 200, 404, 200, 200),
    ("GET",   "/api/dashboards/account/{kam}/",     401, 403, 200, 200, 200, 404, 200, 200),
    ("GET",   "/api/dashboards/account/{kam2}/",    401, 403, 200, 200, 404, 404, 200, 200),
    ("POST",  "/api/mandate-check/",                401, 404, 404, 404, 200, 404, 404, 404),
    ("GET",   "/committee/exceptions/",             302, 403, 200, 200, 403, 403, 200, 200),
    ("POST",  "/committee/budgets/spend/",          302, 403, 403, 403, 302, 403, 403, 403),
    ("GET",   "/committee/departments/",            302, 403, 200, 200, 403, 403, 200, 200),
    ("POST",  "/committee/departments/request/",    302, 403, 403, 403, 302, 302, 403, 403),
    ("POST", "/committee/departments/{deprequest}/fulfil/", 302, 403, 403, 403, 403, 403, 403, 403),
    ("POST",  "/committee/exceptions/new/",         302, 403, 403, 403, 302, 302, 403, 403),
    # The request is at the committee's tier: one person never decides it; those who see it
    # are sent back to it with the message that a proposal's vote decides (its KAM: 403).
    ("GET",   "/committee/exceptions/{exception}/", 302, 404, 200, 200, 200, 404, 200, 200),
    ("POST",  "/committee/exceptions/{exception}/decide/", 302, 404, 302, 302, 403, 404, 302, 302),
    # Exceptional situations: KAMs declare on their accounts, the owner or the committee handle.
    ("GET",   "/committee/incidents/",              302, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/committee/incidents/new/",          302, 403, 403, 403, 200, 200, 403, 403),
    ("POST",  "/committee/incidents/new/",          302, 403, 403, 403, 302, 200, 403, 403),
    ("GET",   "/committee/incidents/{incident}/",   302, 403, 200, 200, 200, 404, 200, 200),
    ("POST",  "/committee/incidents/{incident}/take/", 302, 403, 302, 302, 403, 404, 403, 403),
    ("POST",  "/committee/incidents/{incident}/close/", 302, 403, 302, 302, 403, 404, 403, 403),
    ("POST",  "/committee/incidents/{incident}/note/", 302, 403, 302, 302, 302, 404, 403, 403),
    ("GET",   "/committee/playbook/",               302, 403, 200, 200, 200, 200, 200, 200),
    # Absences: members record and end their own; nobody (the administrator included) anyone
    # else's.
    ("GET",   "/committee/absences/",               302, 403, 200, 200, 403, 403, 403, 200),
    ("POST",  "/committee/absences/",               302, 403, 200, 200, 403, 403, 403, 403),
    ("POST",  "/committee/absences/{absence}/end/", 302, 403, 302, 403, 403, 403, 403, 403),
    # The change record: the committee reads it, nobody else.
    ("GET",   "/committee/record/",                 302, 403, 200, 200, 403, 403, 403, 403),
    ("GET",   "/api/record/",                       401, 403, 200, 200, 403, 403, 403, 403),
    ("GET",   "/api/record/{entry}/",               401, 403, 200, 200, 403, 403, 403, 403),
    # Budgets: the committee allocates, directors and the administrator follow.
    ("GET",   "/committee/budgets/",                302, 403, 200, 200, 403, 403, 200, 200),
    ("POST",  "/committee/budgets/",                302, 403, 200, 200, 403, 403, 403, 403),
    # Meetings and the register of interests: members keep them, directors and admin read them.
    ("GET",   "/committee/meetings/",               302, 403, 200, 200, 403, 403, 200, 200),
    ("GET",   "/committee/meetings/new/",           302, 403, 200, 200, 403, 403, 403, 403),
    ("POST",  "/committee/meetings/new/",           302, 403, 302, 302, 403, 403, 403, 403),
    ("GET",   "/committee/meetings/{meeting}/",     302, 403, 200, 200, 403, 403, 200, 200),
    ("POST", "/committee/meetings/{meeting}/agenda/build/", 302, 403, 302, 302, 403, 403, 403, 403),
    ("POST",  "/committee/meetings/{meeting}/agenda/add/", 302, 403, 302, 302, 403, 403, 403, 403),
    ("POST",  "/committee/meetings/{meeting}/attendance/", 302, 403, 302, 302, 403, 403, 403, 403),
    ("GET",   "/committee/meetings/{meeting}/minutes/", 302, 403, 200, 200, 403, 403, 200, 200),
    # The board pack: whoever reads the meeting asks for it and downloads it (404 until ready).
    ("GET",   "/committee/meetings/{meeting}/packs/", 302, 403, 200, 200, 403, 403, 200, 200),
    ("POST",  "/committee/meetings/{meeting}/packs/", 302, 403, 302, 302, 403, 403, 302, 302),
    ("GET", "/committee/meetings/{meeting}/packs/pack-en.pdf", 302, 403, 404, 404, 403, 403, 404, 404),  # noqa: E501
    ("GET",   "/committee/interests/",              302, 403, 200, 200, 403, 403, 200, 200),
    ("POST",  "/committee/interests/",              302, 403, 302, 302, 403, 403, 403, 403),
    # The calendar: everyone signed in keeps their own address; an unknown address is 404.
    ("GET",   "/committee/calendar/",               302, 200, 200, 200, 200, 200, 200, 200),
    ("POST",  "/committee/calendar/",               302, 302, 302, 302, 302, 302, 302, 302),
    ("GET",   "/committee/calendar/not-an-address.ics", 404, 404, 404, 404, 404, 404, 404, 404),
    ("POST",  "/committee/proposals/{proposal}/recuse/", 302, 403, 302, 302, 403, 403, 403, 403),
    ("POST",  "/committee/proposals/{proposal}/withdraw/", 302, 403, 302, 403, 403, 403, 403, 403),
    ("GET",   "/committee/decisions/{decision}/revisit/", 302, 403, 200, 200, 403, 403, 403, 403),
    ("GET",   "/api/proposals/",                    401, 403, 200, 200, 403, 403, 200, 200),
    ("GET",   "/api/proposals/{proposal}/",         401, 403, 200, 200, 403, 403, 200, 200),
    ("POST",  "/api/proposals/{proposal}/vote/",    401, 403, 200, 200, 403, 403, 403, 403),
    ("GET",   "/api/decisions/",                    401, 403, 200, 200, 403, 403, 200, 200),
    ("GET",   "/api/decisions/{decision}/",         401, 403, 200, 200, 403, 403, 200, 200),
    # The management shell over the API: a KAM reads and writes their own only.
    ("GET",   "/api/mandates/",                     401, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/mandates/{mandate}/",           401, 403, 200, 200, 200, 404, 200, 200),
    ("GET",   "/api/escalation-tiers/",             401, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/escalation-tiers/{tier}/",      401, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/relationship-methods/",         401, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/relationship-methods/{method}/", 401, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/department-obligations/",       401, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/department-obligations/{obligation}/", 401, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/exception-requests/",           401, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/exception-requests/{exception}/", 401, 403, 200, 200, 200, 404, 200, 200),
    ("POST",  "/api/exception-requests/",           401, 403, 403, 403, 201, 404, 403, 403),
    ("POST", "/api/exception-requests/{exception}/decide/", 401, 403, 403, 403, 403, 404, 403, 403),
    ("POST", "/api/exception-requests/{exception}/withdraw/", 401, 403, 403, 403, 200, 404, 403, 403),  # noqa: E501
    ("GET",   "/api/budgets/",                      401, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/budgets/{budget}/",             401, 403, 200, 200, 200, 404, 200, 200),
    ("POST",  "/api/budgets/",                      401, 403, 201, 201, 403, 403, 403, 403),
    ("GET",   "/api/spending/",                     401, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/spending/{spend}/",             401, 403, 200, 200, 200, 404, 200, 200),
    ("POST",  "/api/spending/",                     401, 403, 403, 403, 201, 404, 403, 403),
    ("GET",   "/api/department-requests/",          401, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/department-requests/{deprequest}/", 401, 403, 200, 200, 200, 404, 200, 200),
    ("POST",  "/api/department-requests/",          401, 403, 403, 403, 201, 404, 403, 403),
    ("POST", "/api/department-requests/{deprequest}/fulfil/", 401, 403, 403, 403, 403, 404, 403, 403),  # noqa: E501
    ("GET",   "/api/situations/",                   401, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/situations/{situation}/",       401, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/incidents/",                    401, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/incidents/{incident}/",         401, 403, 200, 200, 200, 404, 200, 200),
    ("POST",  "/api/incidents/",                    401, 403, 403, 403, 201, 404, 403, 403),
    ("POST",  "/api/incidents/{incident}/take/",    401, 403, 200, 200, 403, 404, 403, 403),
    ("POST",  "/api/incidents/{incident}/close/",   401, 403, 200, 200, 403, 404, 403, 403),
    ("POST",  "/api/incidents/{incident}/note/",    401, 403, 200, 200, 200, 404, 403, 403),
    # The REST API.
    ("GET",   "/api/",                              401, 200, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/clients/",                      401, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/clients/{kam}/",                401, 403, 200, 200, 200, 404, 200, 200),
    ("GET",   "/api/clients/{kam2}/",               401, 403, 200, 200, 404, 200, 200, 200),
    ("GET",   "/api/clients/{shared}/",             401, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/clients/{missing}/",            401, 403, 404, 404, 404, 404, 404, 404),
    ("PATCH", "/api/clients/{kam}/",                401, 403, 403, 403, 403, 403, 403, 200),
    ("GET",   "/api/needs/",                        401, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/needs/{need}/",                 401, 403, 200, 200, 200, 404, 200, 200),
    ("PATCH", "/api/needs/{need}/",                 401, 403, 403, 403, 200, 404, 403, 200),
    ("GET",   "/api/figures/",                      401, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/figures/{figure}/",             401, 403, 200, 200, 200, 404, 200, 200),
    ("PATCH", "/api/figures/{figure}/",             401, 403, 403, 403, 403, 403, 403, 200),
    # The ruler's API: everyone with a role reads USPs, coverage, versions and evaluations (a KAM
    # those of own accounts); runs, review items and fit ratings are the committee's, directors'
    # and the administrator's. The committee and the administrator keep coverage and drafts and
    # start runs; the administrator alone keeps USPs and adopts.
    ("GET",   "/api/usps/",                         401, 403, 200, 200, 200, 200, 200, 200),
    ("POST",  "/api/usps/",                         401, 403, 403, 403, 403, 403, 403, 201),
    ("GET",   "/api/usps/{usp}/",                   401, 403, 200, 200, 200, 200, 200, 200),
    ("PATCH", "/api/usps/{usp}/",                   401, 403, 403, 403, 403, 403, 403, 200),
    ("GET",   "/api/coverages/",                    401, 403, 200, 200, 200, 200, 200, 200),
    ("POST",  "/api/coverages/",                    401, 403, 201, 201, 403, 403, 403, 201),
    ("GET",   "/api/coverages/{coverage}/",         401, 403, 200, 200, 200, 404, 200, 200),
    ("PATCH", "/api/coverages/{coverage}/",         401, 403, 200, 200, 403, 403, 403, 200),
    ("GET",   "/api/rulers/",                       401, 403, 200, 200, 200, 200, 200, 200),
    ("POST",  "/api/rulers/",                       401, 403, 201, 201, 403, 403, 403, 201),
    ("GET",   "/api/rulers/{ruler}/",               401, 403, 200, 200, 200, 200, 200, 200),
    ("PATCH", "/api/rulers/{draft}/",               401, 403, 200, 200, 403, 403, 403, 200),
    ("PATCH", "/api/rulers/{ruler}/",               401, 403, 409, 409, 403, 403, 403, 409),
    ("GET",   "/api/evaluations/",                  401, 403, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/evaluations/{eval_kam}/",       401, 403, 200, 200, 200, 404, 200, 200),
    ("GET",   "/api/evaluations/{eval_kam2}/",      401, 403, 200, 200, 404, 200, 200, 200),
    ("GET",   "/api/runs/",                         401, 403, 200, 200, 403, 403, 200, 200),
    ("POST",  "/api/runs/",                         401, 403, 200, 200, 403, 403, 403, 200),
    ("GET",   "/api/runs/{run}/",                   401, 403, 200, 200, 403, 403, 200, 200),
    ("GET",   "/api/review-items/",                 401, 403, 200, 200, 403, 403, 200, 200),
    ("GET",   "/api/review-items/{item}/",          401, 403, 200, 200, 403, 403, 200, 200),
    ("GET",   "/api/fit-ratings/",                  401, 403, 200, 200, 403, 403, 200, 200),
    ("POST",  "/api/fit-ratings/",                  401, 403, 201, 201, 403, 403, 403, 201),
    ("GET",   "/api/fit-ratings/{rating}/",         401, 403, 200, 200, 403, 403, 200, 200),
    ("POST",  "/api/auth/token/",                   401, 200, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/schema/",                       401, 200, 200, 200, 200, 200, 200, 200),
    ("GET",   "/api/docs/",                         302, 200, 200, 200, 200, 200, 200, 200),
]
# fmt: on

# What the writes in the matrix send. The token endpoint gets the requester's own credentials
# (anonymous: someone else's name with a wrong password).
PAYLOADS: dict[str, dict[str, object]] = {
    "/i18n/setlang/": {"language": "ru"},
    "/api/clients/{kam}/": {"notes": "Met the new buyer."},
    "/api/needs/{need}/": {"weight": 3},
    "/api/figures/{figure}/": {"revenue": "2000000.00"},
    "/ruler/clients/{kam}/coverage/": {"need": "{need}", "usp": "{usp}", "degree": "1"},
    "/ruler/versions/{draft}/": {
        "title": "Ruler 2027",
        "horizon_months": "12",
        "threshold_percent": "80",
        "concession_percent": "10",
        "criteria-TOTAL_FORMS": "0",
        "criteria-INITIAL_FORMS": "0",
    },
    "/api/usps/": {"name": "On-site service", "since": "2026-01-01"},
    "/api/usps/{usp}/": {"retired_on": "2026-12-31"},
    "/api/coverages/": {"need": "{need}", "usp": "{usp}", "degree": "0.5"},
    "/api/coverages/{coverage}/": {"degree": "0.5"},
    "/api/rulers/": {"title": "Ruler 2027"},
    "/api/rulers/{draft}/": {"title": "Ruler 2027, second reading"},
    "/api/rulers/{ruler}/": {"title": "Rewritten"},
    "/api/fit-ratings/": {"client": "{kam}", "rating": "4"},
    "/committee/proposals/{proposal}/": {"choice": "for", "comment": ""},
    "/api/proposals/{proposal}/vote/": {"choice": "for"},
    "/committee/meetings/new/": {"held_on": "2026-11-20", "title": "Ad hoc session"},
    "/committee/meetings/{meeting}/agenda/add/": {"text": "Other business"},
    "/committee/meetings/{meeting}/packs/": {"kind": "pack", "language": "en"},
    "/committee/interests/": {"client": "{kam}", "description": "Former employer"},
    "/committee/proposals/{proposal}/recuse/": {"reason": "Board seat at the client"},
    "/api/mandate-check/": {"client": "{kam}", "discount_percent": "1"},
    "/committee/exceptions/new/": {
        "client": "{kam}",
        "discount_percent": "9",
        "justification": "x",
    },
    "/committee/exceptions/{exception}/decide/": {"decision": "approve"},
    "/committee/kpis/entries/": {
        "kpi": "{kpi_manual}",
        "period": "{quarter}",
        "kam": "{kam_user}",
        "value": "61",
    },
    "/api/kpi-targets/{kpitarget}/": {"target": "120"},
    "/api/kpi-entries/": {
        "kpi": "{kpi_manual}",
        "period": "{quarter}",
        "kam": "{kam_user}",
        "value": "61",
    },
    "/committee/incidents/new/": {
        "situation": "{situation}",
        "client": "{kam}",
        "description": "Warehouse fire",
    },
    "/committee/incidents/{incident}/close/": {"text": "Shipped from the second warehouse"},
    "/api/exception-requests/": {"client": "{kam}", "discount_percent": "9", "justification": "x"},
    "/api/exception-requests/{exception}/decide/": {"approve": "true"},
    "/api/budgets/": {"client": "{key}", "period": "2026-10-01", "allocated": "1000"},
    "/api/spending/": {
        "budget": "{budget}",
        "amount": "10",
        "category": "travel",
        "spent_on": "2026-10-02",
        "description": "Taxi",
    },
    "/api/department-requests/": {"obligation": "{obligation}", "client": "{kam}", "text": "x"},
    "/api/incidents/": {"situation": "{situation}", "client": "{kam}", "description": "Fire"},
    "/api/incidents/{incident}/close/": {"text": "Resolved"},
    "/api/incidents/{incident}/note/": {"text": "Called"},
    "/committee/incidents/{incident}/note/": {"text": "Called the client"},
    "/committee/departments/request/": {
        "obligation": "{obligation}",
        "client": "{kam}",
        "text": "x",
    },
}


# The matrix's dates (a budget's quarter, a meeting, a spending) are of autumn 2026: the world is
# built, and the cells run, with the clock set to noon in Moscow on this day.
FROZEN_AT = "2026-11-18T12:00+03:00"


# The module's world: the cast, the places, and each of the cast's session key.
World = tuple[dict[str, User], dict[str, int], dict[str, str]]


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[World]:
    """The cast and every place in the matrix, built once for the module rather than for each
    of its cells. Each test runs in a transaction of its own inside the world's and rolls back
    to the world as built, so no cell sees another's writes; the world itself is rolled back
    after the module's last test."""
    with (
        django_db_blocker.unblock(),
        time_machine.travel(FROZEN_AT),
        # As tests/conftest.py's fast_passwords, which is per test: the cast logs in by password.
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        cast = _cast()
        yield cast, _places(cast), _signed_in(cast)
        transaction.set_rollback(True)


def _signed_in(cast: dict[str, User]) -> dict[str, str]:
    """A session for each of the cast, made once with the world: a cell's client carries its
    key rather than signing in afresh (a session made, cycled and saved), which took a sixth
    of the module's time."""
    keys = {}
    for role, person in cast.items():
        http = HttpClient()
        http.force_login(person)
        keys[role] = http.cookies[settings.SESSION_COOKIE_NAME].value
    return keys


@pytest.fixture
def cast(world: World, db: None) -> dict[str, User]:
    """The module's cast, in place of the one tests/conftest.py makes for each test."""
    return world[0]


@pytest.fixture
def http_as(world: World, db: None) -> Iterator[Callable[[str], HttpClient]]:
    """A client signed in as a role, with the world's session for that role. A test's writes to
    a session (a language chosen, a password changed, a sign-out) are rolled back in the
    database with the test, but not in the cache the sessions are read through: each session
    leaves the cache after the test, and the next test reads it back as the world holds it."""
    keys = world[2]

    def signed_in(role: str) -> HttpClient:
        http = HttpClient(raise_request_exception=False)
        if role != "anonymous":
            http.cookies[settings.SESSION_COOKIE_NAME] = keys[role]
        return http

    yield signed_in
    engine = import_module(settings.SESSION_ENGINE)
    for key in keys.values():
        store = engine.SessionStore(session_key=key)
        if hasattr(store, "cache_key"):
            caches[settings.SESSION_CACHE_ALIAS].delete(store.cache_key)


@pytest.fixture
def places(world: World, db: None) -> dict[str, int]:
    return world[1]


def _cast() -> dict[str, User]:
    """The people of tests/conftest.py's ``cast``."""
    return {
        "chair": UserFactory(username="chair", role=Role.COMMITTEE_CHAIR),
        "member": UserFactory(username="member", role=Role.COMMITTEE_MEMBER),
        "kam": UserFactory(username="kam", role=Role.KAM),
        "kam2": UserFactory(username="kam2", role=Role.KAM),
        "director": UserFactory(username="director", role=Role.DIRECTOR),
        "administrator": UserFactory(
            username="administrator", role=Role.ADMINISTRATOR, is_staff=True
        ),
        "outsider": UserFactory(username="outsider"),
    }


def _places(cast: dict[str, User]) -> dict[str, int]:
    account_of_kam = ClientFactory(name="Volga Steel Works JSC", owner_kam=cast["kam"])
    account_of_kam2 = ClientFactory(name="Ural Chemical Plant LLC", owner_kam=cast["kam2"])
    ruler = RulerVersion.objects.create(number=1, title="Ruler", status=RulerStatus.IN_FORCE)
    shared = ClientFactory(name="Kama Foods LLC", owner_kam=cast["kam2"])
    TeamMemberFactory(client=shared, user=cast["kam"])
    batch = import_check(
        kind=ImportKind.CLIENTS,
        filename="clients.csv",
        content=b"registration_number;name\n1650000001;Tatneft Supply LLC\n",
        user=cast["administrator"],
    )
    need = NeedFactory(client=account_of_kam, name="24-hour delivery")
    run = run_start(as_of=datetime.date(2026, 10, 1))
    now = timezone.now()

    def evaluation(client: Client) -> int:
        return Evaluation.objects.create(
            run=run, client=client, ruler=ruler, meets_ruler=False, was_key=False, created_at=now
        ).pk

    return {
        "kam": account_of_kam.pk,
        "kam2": account_of_kam2.pk,
        "shared": shared.pk,
        "missing": Client.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000,
        "need": need.pk,
        "figure": FigureFactory(client=account_of_kam).pk,
        "batch": batch.pk,
        "usp": USPFactory().pk,
        "run": run.pk,
        "coverage": NeedCoverage.objects.create(need=need, usp=USPFactory(), degree=1).pk,
        "ruler": ruler.pk,
        "draft": RulerVersion.objects.create(number=2, title="Ruler 2027").pk,
        "eval_kam": evaluation(account_of_kam),
        "eval_kam2": evaluation(account_of_kam2),
        "item": ReviewItem.objects.create(
            client=account_of_kam, kind=ReviewKind.KEY_BUT_FAILS, opened_by_run=run, opened_at=now
        ).pk,
        "rating": StrategicFitRating.objects.create(
            client=account_of_kam, rating=4, rated_by=cast["chair"]
        ).pk,
        "meeting": meeting_create(held_on=now.date(), title="Session", by=cast["chair"]).pk,
        **_committee_places(cast, account_of_kam, account_of_kam2),
        **_kpi_places(cast, account_of_kam),
        "kam2_user": cast["kam2"].pk,
    }


def _committee_places(
    cast: dict[str, User], account_of_kam: Client, account_of_kam2: Client
) -> dict[str, int]:
    """chair and member hold seats; an open proposal on kam's account; a decision on kam2's."""
    for name in ("chair", "member"):
        CommitteeMember.objects.create(
            user=cast[name],
            committee_role="sales_director",
            is_chair=name == "chair",
            active_from=datetime.date(2025, 1, 1),
        )
    deadline = timezone.now() + datetime.timedelta(days=3)

    def opened(client: Client) -> Proposal:
        return proposal_open(
            proposal=proposal_create(
                type="grant_key", title="Key", rationale="Why", by=cast["chair"], client=client
            ),
            deadline=deadline,
        )

    meets_the_ruler(account_of_kam)
    meets_the_ruler(account_of_kam2)
    proposal = opened(account_of_kam)
    decided = opened(account_of_kam2)
    for name in ("chair", "member"):
        vote_cast(proposal=decided, member=cast[name], choice="for")
    proposal_close(proposal=decided, early=True)
    mandate = Mandate.objects.create(
        kam=cast["kam"],
        title="Mandate",
        valid_from=datetime.date(2025, 1, 1),
        max_discount_percent=5,
        budget_spend_without_approval=500,
    )
    MandateAccount.objects.create(mandate=mandate, client=account_of_kam)
    mandate_adopt(mandate=mandate)
    exception = exception_file(
        kam=cast["kam"],
        client_id=account_of_kam.pk,
        asked={"discount_percent": Decimal(9)},
        justification="Tender",
    )
    # Set after the request above was filed: it is still the committee's to decide.
    tier = EscalationTier.objects.create(order=1, approver="head_of_kam")
    method = RelationshipMethod.objects.create(name="Quarterly business review")
    obligation = DepartmentObligation.objects.create(
        department="logistics",
        title="Urgent shipment",
        owner=UserFactory(username="logistics.head"),
        response_hours=24,
    )
    deprequest = department_request(
        kam=cast["kam"], obligation=obligation, client_id=account_of_kam.pk, text="Ship"
    )
    situation = SituationType.objects.create(
        name="Quality failure",
        procedure="Call the client",
        owner=UserFactory(username="quality.head"),
        response_hours=4,
    )
    incident = incident_declare(
        kam=cast["kam"], client_id=account_of_kam.pk, situation=situation, description="Defects"
    )
    key = ClientFactory(name="Volga Steel JSC")
    Client.objects.filter(pk=key.pk).update(is_key=True)
    budget = Budget.objects.create(
        client=account_of_kam, period=quarter_start(timezone.localdate()), allocated=5000
    )
    spend = budget_spend(
        kam=cast["kam"],
        budget=budget,
        amount=Decimal(100),
        category="travel",
        spent_on=timezone.localdate(),
        description="Train",
    )
    # Next week's absence: today the chair still decides for themselves.
    absence = Absence.objects.create(
        user=cast["chair"],
        starts_on=timezone.localdate() + datetime.timedelta(days=7),
        ends_on=timezone.localdate() + datetime.timedelta(days=14),
        deputy=cast["member"],
    )
    return {
        "proposal": proposal.pk,
        "decision": decided.decision.pk,
        "mandate": mandate.pk,
        "exception": exception.pk,
        "obligation": obligation.pk,
        "deprequest": deprequest.pk,
        "situation": situation.pk,
        "incident": incident.pk,
        "absence": absence.pk,
        "tier": tier.pk,
        "method": method.pk,
        "key": key.pk,
        "budget": budget.pk,
        "spend": spend.pk,
        "entry": RecordEntry.objects.latest("pk").pk,
    }


def _kpi_places(cast: dict[str, User], account_of_kam: Client) -> dict[str, int | str]:
    """A computed and a manual KPI, a target of kam's mandate, a hand entry, and snapshots of
    the portfolio and of kam."""
    quarter = quarter_start(timezone.localdate())
    revenue = Kpi.objects.create(code="revenue", name="Revenue", unit="money", source="revenue")
    manual = Kpi.objects.create(code="nps", name="NPS", unit="percent", source="manual")
    mandate = Mandate.objects.get(kam=cast["kam"], status="in_force")
    target = KpiTarget.objects.create(kpi=revenue, mandate=mandate, period=quarter, target=100)
    entry = kpi_entry_record(
        kpi=manual,
        period=quarter,
        kam=cast["kam"],
        client=None,
        value=50,
        note="",
        by=cast["chair"],
    )
    snapshot_quarter(quarter)
    snapshots = KpiSnapshot.objects.filter(kpi=revenue)
    return {
        "kpi": revenue.pk,
        "kpi_manual": manual.pk,
        "kpitarget": target.pk,
        "kpientry": entry.pk,
        "snap_portfolio": snapshots.get(scope_key="portfolio").pk,
        "snap_kam": snapshots.get(scope_key=f"kam:{cast['kam'].pk}").pk,
        "kam_user": cast["kam"].pk,
        "quarter": quarter.isoformat(),
    }


def request(
    http: HttpClient, method: str, path: str, payload: dict[str, object] | None = None
) -> int:
    if method == "GET":
        return http.get(path).status_code
    if method == "PATCH":
        return http.patch(path, payload or {}, content_type="application/json").status_code
    if path.startswith("/api/"):  # as the API's clients send it; a ruler takes JSON only
        return http.post(path, payload or {}, content_type="application/json").status_code
    return http.post(path, payload or {}).status_code


def _cells() -> list[pytest.param]:
    return [
        pytest.param(method, path, role, status, id=f"{method} {path} as {role}")
        for method, path, *statuses in MATRIX
        for role, status in zip(ROLES, statuses, strict=True)
    ]


@pytest.mark.parametrize(("method", "path", "role", "expected"), _cells())
def test_permission_matrix(
    method: str,
    path: str,
    role: str,
    expected: int,
    cast: dict[str, User],
    places: dict[str, int],
    http_as: Callable[[str], HttpClient],
) -> None:
    payload = {
        name: value.format(**places) if isinstance(value, str) else value
        for name, value in PAYLOADS.get(path, {}).items()
    }
    if path == "/api/auth/token/":
        username = cast[role].username if role != "anonymous" else "kam"
        password = PASSWORD if role != "anonymous" else "wrong"
        payload = {"username": username, "password": password}

    status = request(http_as(role), method, path.format(**places), payload)

    assert status == expected


def _named_routes(resolver: URLResolver, namespace: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= _named_routes(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


def test_the_matrix_covers_every_route() -> None:
    """Adding a page or an endpoint without a row in the matrix fails here."""
    sample = dict.fromkeys(
        ("kam", "kam2", "shared", "missing", "need", "figure", "batch", "usp", "run", "coverage",
         "ruler", "draft", "eval_kam", "eval_kam2", "item", "rating", "proposal", "decision",
         "kpi", "kpitarget", "kpientry", "snap_portfolio", "snap_kam",
         "mandate", "exception", "obligation", "deprequest", "situation", "incident",
             "absence", "key", "budget", "spend", "tier", "method", "entry"),
        1,
    )  # fmt: skip
    sample["meeting"] = 1
    sample.update(kam_user=1, kam2_user=1)
    covered = {resolve(path.format(**sample)).view_name for _method, path, *_ in MATRIX}
    # The admin's own pages are Django's; its index stands for them.
    routes = {name for name in _named_routes(get_resolver()) if not name.startswith("admin:")}

    assert routes - covered == set()
    assert "admin:index" in covered


DIRECTOR_NAVIGATION = [
    "Home",
    "Clients",
    "The ruler",
    "Committee",
    "Mandates",
    "Exceptions",
    "Dashboards",
    "API",
]
COMMITTEE_NAVIGATION = [*DIRECTOR_NAVIGATION[:-1], "Change record", "API"]
NAV_LINK = re.compile(r'<a href="(?P<url>[^"]+)"[^>]*>(?P<label>[^<]+)</a>')


def navigation_of(page: str) -> list[str]:
    nav = re.search(r'<nav aria-label="Main"[^>]*>(.*?)</nav>', page, re.S)
    return [m["label"].strip() for m in NAV_LINK.finditer(nav[1])] if nav else []


@pytest.mark.parametrize(
    ("role", "sections"),
    [
        ("outsider", ["Home", "API"]),
        ("chair", COMMITTEE_NAVIGATION),
        ("member", COMMITTEE_NAVIGATION),
        ("kam", ["Home", "Clients", "My mandate", "API"]),
        ("kam2", ["Home", "Clients", "My mandate", "API"]),
        ("director", DIRECTOR_NAVIGATION),
        (
            "administrator",
            [
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
        ),
    ],
)
def test_navigation_shows_each_role_only_what_it_may_use(
    role: str, sections: list[str], http_as: Callable[[str], HttpClient]
) -> None:
    http = http_as(role)

    assert navigation_of(http.get("/").text) == sections
    # Every section shown opens; every section hidden is refused.
    for item in NAVIGATION:
        status = http.get(reverse(item.url_name)).status_code
        assert (status == 200) == (str(item.label) in sections), (item.label, status)


def test_staff_without_a_role_gets_administration_but_not_imports(db: None) -> None:
    staff = UserFactory(username="staff", is_staff=True)
    http = HttpClient()
    http.force_login(staff)

    assert navigation_of(http.get("/").text) == ["Home", "API", "Administration"]


def test_anonymous_visitors_see_no_navigation(db: None) -> None:
    page = HttpClient().get("/login/")
    assert page.status_code == 200
    assert navigation_of(page.text) == []


def _get_urls() -> list[str]:
    """Every GET in the matrix, plus the lists with odd and hostile query strings."""
    paths = [path for method, path, *_ in MATRIX if method == "GET"]
    return [
        *paths,
        "/clients/?q=%00&segment=nonsense&ordering=nonsense&page=999",
        "/clients/?owner_kam=abc&industry=nowhere&region=nowhere&is_key=maybe&page=-1",
        "/clients/imports/?page=abc",
        "/clients/imports/{batch}/?show=nonsense&page=999",
        "/api/clients/?q=%00&segment=nonsense&ordering=nonsense&page=abc",
        "/api/clients/?owner_kam=abc&is_key=maybe&industry=nowhere",
        "/api/clients/?page=999",
        "/api/needs/?client=abc&ordering=nonsense&search=%00",
        "/api/needs/?client={kam2}&ordering=-weight",
        "/api/figures/?client=abc&period=not-a-date&period_from=x&period_to=y",
        "/api/figures/?ordering=-revenue&format=json",
        "/api/schema/?format=json",
    ]


@pytest.mark.parametrize("role", ROLES)
def test_no_page_or_api_list_fails_with_a_server_error(
    role: str, places: dict[str, int], http_as: Callable[[str], HttpClient]
) -> None:
    # Awkward but legal figures: no revenue at all, and a huge negative margin on almost none.
    FigureFactory(client_id=places["kam"], period="2025-01-01", revenue=0)
    FigureFactory(
        client_id=places["kam"],
        period="2025-04-01",
        revenue=Decimal("0.01"),
        gross_margin=Decimal("-99999999999999.99"),
    )
    http = http_as(role)

    failures = [
        (url, status)
        for url in (template.format(**places) for template in _get_urls())
        if (status := http.get(url).status_code) >= 500
    ]

    assert failures == []
