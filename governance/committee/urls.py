"""Pages of the committee: proposals, decisions, drift, the policy, meetings and interests."""

from django.urls import path

from governance.committee.views import (
    calendar,
    decisions,
    mandate_proposals,
    meetings,
    new_proposal,
    proposals,
)

urlpatterns = [
    path("proposals/", proposals.proposal_list, name="proposal-list"),
    path("proposals/new/", new_proposal.proposal_new, name="proposal-new"),
    path(
        "proposals/new/<slug:question>/",
        new_proposal.proposal_new_question,
        name="proposal-new-question",
    ),
    path("proposals/<int:pk>/", proposals.proposal_detail, name="proposal-detail"),
    path(
        "mandates/<int:pk>/propose/",
        mandate_proposals.mandate_propose_view,
        name="mandate-propose",
    ),
    path("proposals/<int:pk>/close/", proposals.proposal_close_view, name="proposal-close"),
    path(
        "proposals/<int:pk>/withdraw/", proposals.proposal_withdraw_view, name="proposal-withdraw"
    ),
    path("proposals/<int:pk>/recuse/", proposals.proposal_recuse_view, name="proposal-recuse"),
    path("decisions/<int:pk>/revisit/", new_proposal.decision_revisit, name="decision-revisit"),
    path("decisions/", decisions.decision_register, name="decision-list"),
    path("drift/", decisions.drift_panel, name="drift"),
    path("policy/", decisions.policy_overview, name="policy"),
    path("meetings/", meetings.meeting_list, name="meeting-list"),
    path("meetings/new/", meetings.meeting_new, name="meeting-new"),
    path("meetings/<int:pk>/", meetings.meeting_detail, name="meeting-detail"),
    path(
        "meetings/<int:pk>/agenda/build/",
        meetings.meeting_agenda_build,
        name="meeting-agenda-build",
    ),
    path("meetings/<int:pk>/agenda/add/", meetings.meeting_agenda_add, name="meeting-agenda-add"),
    path("meetings/<int:pk>/attendance/", meetings.meeting_attendance, name="meeting-attendance"),
    path("meetings/<int:pk>/minutes/", meetings.meeting_minutes, name="meeting-minutes"),
    path("meetings/<int:pk>/packs/", meetings.meeting_packs, name="meeting-packs"),
    path(
        "meetings/<int:pk>/packs/<str:kind>-<str:language>.pdf",
        meetings.meeting_pack_download,
        name="meeting-pack-download",
    ),
    path("interests/", meetings.interest_register, name="interest-register"),
    path("calendar/", calendar.calendar_page, name="calendar"),
    path("calendar/<str:token>.ics", calendar.calendar_feed, name="calendar-feed"),
]
