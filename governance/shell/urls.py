"""Pages of the management shell: mandates, exceptions, budgets, departments, incidents and
absences."""

from django.urls import path

from governance.shell.views import (
    absences,
    budgets,
    departments,
    drafting,
    exceptions,
    incidents,
    mandates,
)

urlpatterns = [
    path("my-mandate/", mandates.my_mandate, name="my-mandate"),
    path("budgets/spend/", budgets.budget_spend_view, name="budget-spend"),
    path("departments/", departments.department_board, name="departments"),
    path("departments/request/", departments.department_request_view, name="department-request"),
    path(
        "departments/<int:pk>/fulfil/", departments.department_fulfil_view, name="department-fulfil"
    ),
    path("exceptions/", exceptions.exception_list, name="exception-list"),
    path("exceptions/new/", exceptions.exception_new, name="exception-new"),
    path("exceptions/<int:pk>/", exceptions.exception_detail, name="exception-detail"),
    path("exceptions/<int:pk>/decide/", exceptions.exception_decide_view, name="exception-decide"),
    path("mandates/", mandates.mandate_list, name="mandate-list"),
    path("mandates/<int:pk>/", mandates.mandate_detail, name="mandate-detail"),
    # Drafting: the committee's list per KAM, a draft, its comparison with the mandate in force.
    path("mandates/drafting/", drafting.mandate_drafts, name="mandate-drafts"),
    path("mandates/drafting/new/", drafting.mandate_draft_new_view, name="mandate-draft-new"),
    path("mandates/<int:pk>/draft/", drafting.mandate_draft, name="mandate-draft"),
    path(
        "mandates/<int:pk>/draft/clients/",
        drafting.mandate_draft_clients,
        name="mandate-draft-clients",
    ),
    path("mandates/<int:pk>/copy/", drafting.mandate_draft_copy_view, name="mandate-draft-copy"),
    path("mandates/<int:pk>/compare/", drafting.mandate_compare_view, name="mandate-compare"),
    path("incidents/", incidents.incident_list, name="incident-list"),
    path("incidents/new/", incidents.incident_new, name="incident-new"),
    path("incidents/<int:pk>/", incidents.incident_detail, name="incident-detail"),
    path("incidents/<int:pk>/take/", incidents.incident_take_view, name="incident-take"),
    path("incidents/<int:pk>/close/", incidents.incident_close_view, name="incident-close"),
    path("incidents/<int:pk>/note/", incidents.incident_note_view, name="incident-note"),
    path("playbook/", incidents.playbook, name="playbook"),
    path("absences/", absences.absence_list, name="absence-list"),
    path("absences/<int:pk>/end/", absences.absence_end, name="absence-end"),
    path("budgets/", budgets.budget_list, name="budget-list"),
]
